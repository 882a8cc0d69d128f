using Gantry.Flow;
using Gantry.Storage.Sqlite.Native;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// Queue limits (concurrency, per key, rate): their settings, which queues have them as the claim sees them, and the
/// claim of a limited queue inside the claim's write transaction (reading rows with the claim's <paramref name="reader"/>).
/// </summary>
internal sealed partial class SqliteFlowLimits(SqliteDatabase db, StoreSignals signals, ClaimedJobReader reader) : IStoreFlowLimits
{
    /// <summary>
    /// The claim of a per-key queue's chosen jobs (@seqs, a JSON array; <see cref="SqliteKeyWalk"/>), each marked as holding
    /// a slot. Returns each job's key after the claim's columns, for the cursor and the starts.
    /// </summary>
    private const string PerKeyClaimSql = $"""
        UPDATE jobs
        SET state = 'running', attempt = attempt + 1, worker_id = @worker, lease_until = @lease_until,
            started_at = @now, progress = NULL, progress_message = NULL, slot = 1
        WHERE seq IN (SELECT value FROM json_each(@seqs)) AND state = 'queued'
        {ClaimStatements.Returning}, concurrency_key
        """;

    /// <summary>A limited queue's limits and cursor, and whether it may be claimed now: not paused, and the worker takes new jobs.</summary>
    private static readonly string ReadLimitsSql = $"""
        SELECT concurrency, per_key, rate_count, rate_window_ms, key_rate_count, key_rate_window_ms, cursor_key,
               NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = @queue) AND {WorkerStates.ClaimsSql}, held
        FROM queue_limits WHERE queue = @queue
        """;

    /// <summary>A limits row (of queue_limits) that limits per key (<see cref="QueueLimits.IsPerKey"/>): its queue's slots are
    /// marked jobs; otherwise they are its running total, <c>held</c>. (Migration 15's trigger spells the same test.)</summary>
    internal const string PerKeySql = "(per_key IS NOT NULL OR key_rate_count IS NOT NULL)";

    private readonly LimitedQueues _limited = new(TimeProvider.System);
    private readonly Dictionary<(int?, int), string> _limitedClaimSql = [];
    private readonly SqliteKeyWalk _walk = new(db);

    /// <summary>Whether <paramref name="queue"/> had limits at the last <see cref="Refresh"/>: the claim then asks
    /// <see cref="ClaimLimited"/> first.</summary>
    public bool IsLimited(string queue) => _limited.Queues.Contains(queue);

    /// <summary>Reads which queues have limits when the last read is older than <see cref="LimitedQueues.RefreshEvery"/> (under the write lock).</summary>
    public void Refresh()
    {
        if (!_limited.IsStale) return;
        var limited = new List<(string, QueueLimits)>();
        var read = db.Raw("SELECT queue, concurrency, per_key, rate_count, rate_window_ms, key_rate_count, key_rate_window_ms FROM queue_limits");
        try
        {
            while (read.Step())
                if (QueueLimits.FromStored(read.GetInt64OrNull(1), read.GetInt64OrNull(2), read.GetInt64OrNull(3), read.GetInt64OrNull(4),
                        read.GetInt64OrNull(5), read.GetInt64OrNull(6)) is { } limits)
                    limited.Add((read.GetString(0), limits));
        }
        finally
        {
            read.Reset();
        }
        _limited.Set(limited);
    }

    /// <summary>
    /// Claims from a limited queue, inside the claim's write transaction (one writer at a time, so the counts are exact):
    /// at most the room its limits leave, each job holding a slot while it runs (per key marked and counted over
    /// jobs_slots, without keys added to the queue's running total), its starts recorded for the rate. False when the
    /// queue has no limits any more (the caller claims it as any other).
    /// </summary>
    public bool ClaimLimited(QueueDemand demand, JobClaimParams p, long now, long leaseUntil, List<(long Seq, ClaimedJob Job, bool IsStep)> claimed, List<string> heldBack)
    {
        QueueLimits? limits;
        string cursor;
        bool mayClaim;
        long total;
        var read = db.Raw(ReadLimitsSql).Bind("@queue", demand.Queue).Bind("@worker", p.WorkerId);
        try
        {
            if (!read.Step()) return false;
            limits = QueueLimits.FromStored(read.GetInt64OrNull(0), read.GetInt64OrNull(1), read.GetInt64OrNull(2), read.GetInt64OrNull(3),
                read.GetInt64OrNull(4), read.GetInt64OrNull(5));
            cursor = read.GetString(6);
            mayClaim = read.GetInt64(7) == 1;
            total = read.GetInt64(8);
        }
        finally
        {
            read.Reset();
        }
        if (limits is null) return false;
        var keyed = limits.IsPerKey;
        long room = demand.Limit;
        // The slots held: per key, the marked running jobs (over jobs_slots); without keys, the queue's running total.
        if (limits.Concurrency is { } c) room = Math.Min(Math.Min(room, QueueLimits.ClaimCeiling(c)), c - (keyed ? Count(SlotsHeldSql, demand.Queue) : total));
        if (limits.Rate is { } rate)
        {
            db.Raw("DELETE FROM queue_starts WHERE queue = @queue AND at <= @since").Bind("@queue", demand.Queue).Bind("@since", now - (long)rate.Per.TotalMilliseconds).Execute();
            room = Math.Min(room, rate.Count - Count("SELECT coalesce(sum(n), 0) FROM queue_starts WHERE queue = @queue", demand.Queue));
        }
        // A paused queue, or a worker that takes no new jobs, claims nothing: decided before the walk, which would
        // otherwise move the cursor past keys none of whose jobs were taken (as PostgreSQL's claim has no room then).
        if (!mayClaim) room = 0;
        if (room <= 0)
        {
            heldBack.Add(demand.Queue);
            _limited.WakeAfterShortClaim(demand.Queue, 0, signals.JobsAvailable);
            return true;
        }

        var keySince = limits.RatePerKey is { } keyRate ? now - (long)keyRate.Per.TotalMilliseconds : 0;
        if (limits.RatePerKey is not null)
            db.Raw("DELETE FROM queue_key_starts WHERE queue = @queue AND at <= @since").Bind("@queue", demand.Queue).Bind("@since", keySince).Execute();
        RawStatement claim;
        SqliteKeyWalk.Choice? choice = null;
        if (keyed)
        {
            choice = _walk.Choose(demand.Queue, cursor, room, limits, keySince, p);
            claim = db.Raw(PerKeyClaimSql).Bind("@seqs", $"[{string.Join(',', choice.Value.Seqs)}]");
        }
        else
        {
            var shape = (p.JobTypes?.Count, p.Capabilities.Count);
            if (!_limitedClaimSql.TryGetValue(shape, out var sql))
                _limitedClaimSql[shape] = sql = ClaimStatements.Sql(shape.Item1, shape.Item2, limited: true);
            claim = ClaimStatements.BindFilters(db.Raw(sql), p).Bind("@queue", demand.Queue).Bind("@limit", room);
        }
        claim.Bind("@worker", p.WorkerId).Bind("@lease_until", leaseUntil).Bind("@now", now);
        var first = claimed.Count;
        Dictionary<string, int>? keyStarts = limits.RatePerKey is null ? null : new(StringComparer.Ordinal);
        try
        {
            while (claim.Step())
            {
                claimed.Add((claim.GetInt64(0), reader.Read(claim, p.WorkerId), claim.GetInt64(17) == 1));
                if (!keyed) continue;
                var key = claim.GetStringOrNull(ClaimStatements.ReturningCount);
                if (keyStarts is not null) keyStarts[key ?? ""] = keyStarts.GetValueOrDefault(key ?? "") + 1;
            }
        }
        finally
        {
            claim.Reset();
        }
        // A claim that filled its room moves the cursor to the last key it served (a key walked but outdone on turns keeps
        // its turn); one that came back short took every job the walked keys could give, so it moves past all of them:
        // keys whose room is used up (a rate per key for a whole window) or whose jobs this worker cannot run never hold
        // the walk in place.
        var next = choice is not { } walk ? null : claimed.Count - first < room && walk.Walked.Count > 0 ? walk.Walked[^1] : walk.LastServed;
        if (next is not null && next != cursor)
            db.Raw("UPDATE queue_limits SET cursor_key = @cursor WHERE queue = @queue").Bind("@queue", demand.Queue).Bind("@cursor", next).Execute();
        if (claimed.Count - first < demand.Limit)
        {
            heldBack.Add(demand.Queue);
            _limited.WakeAfterShortClaim(demand.Queue, claimed.Count - first, signals.JobsAvailable);
        }
        if (!keyed && claimed.Count > first)
            db.Raw("UPDATE queue_limits SET held = held + @n WHERE queue = @queue").Bind("@queue", demand.Queue).Bind("@n", claimed.Count - first).Execute();
        if (limits.Rate is not null && claimed.Count > first)
            db.Raw("INSERT INTO queue_starts (queue, at, n) VALUES (@queue, @now, @n)").Bind("@queue", demand.Queue).Bind("@now", now).Bind("@n", claimed.Count - first).Execute();
        foreach (var (key, n) in keyStarts ?? [])
            db.Raw("INSERT INTO queue_key_starts (queue, concurrency_key, at, n) VALUES (@queue, @key, @now, @n)")
                .Bind("@queue", demand.Queue).Bind("@key", key).Bind("@now", now).Bind("@n", n).Execute();
        return true;
    }

    /// <summary>The slots a per-key queue's running jobs hold (over the partial index jobs_slots).</summary>
    private const string SlotsHeldSql = "SELECT count(*) FROM jobs WHERE queue = @queue AND slot = 1 AND state = 'running'";

    private long Count(string sql, string queue) => db.Raw(sql).Bind("@queue", queue).ReadInt64();

    public async Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct)
    {
        limits = limits.Validated();
        await db.WriteAsync(_ =>
        {
            if (!anyQueue) ThrowIfUnknownQueue(queue);
            bool? perKeyBefore; // null: no limits before
            using (var had = db.Prepared($"SELECT {PerKeySql} FROM queue_limits WHERE queue = @queue").Bind("@queue", queue).ExecuteReader())
                perKeyBefore = had.Read() ? had.GetInt64(0) == 1 : null;
            db.Prepared("""
                INSERT INTO queue_limits (queue, concurrency, per_key, rate_count, rate_window_ms, key_rate_count, key_rate_window_ms, updated_at)
                VALUES (@queue, @concurrency, @per_key, @rate_count, @rate_window_ms, @key_rate_count, @key_rate_window_ms, @now)
                ON CONFLICT (queue) DO UPDATE SET concurrency = excluded.concurrency, per_key = excluded.per_key,
                  rate_count = excluded.rate_count, rate_window_ms = excluded.rate_window_ms,
                  key_rate_count = excluded.key_rate_count, key_rate_window_ms = excluded.key_rate_window_ms, updated_at = excluded.updated_at
                """)
                .Bind("@queue", queue).Bind("@concurrency", limits.Concurrency).Bind("@per_key", limits.PerKey)
                .Bind("@rate_count", limits.Rate?.Count).Bind("@rate_window_ms", limits.Rate is { } r ? (long?)r.Per.TotalMilliseconds : null)
                .Bind("@key_rate_count", limits.RatePerKey?.Count).Bind("@key_rate_window_ms", limits.RatePerKey is { } kr ? (long?)kr.Per.TotalMilliseconds : null)
                .Bind("@now", db.NowMs()).ExecuteNonQuery();
            // A queue that gets limits, or whose limits turn from or to per key: its jobs running now count against them from
            // now on, as that kind of limit counts them (one scan of jobs, only then): per key marked (jobs_slots), without
            // keys counted into the running total. Writes are serialized: no exit is missed or counted twice.
            if (perKeyBefore != limits.IsPerKey)
                db.Prepared(limits.IsPerKey ? AdoptMarkedSql : AdoptCountedSql).Bind("@queue", queue).ExecuteNonQuery();
            // Per key, the queue's jobs without a key take turns as one key: marked, so that the claim finds them (over
            // jobs_unkeyed_claim); every job that may still run, as a retry may reopen a dead or cancelled one.
            if ((perKeyBefore is true) != limits.IsPerKey)
                db.Prepared(limits.IsPerKey ? MarkUnkeyedSql : UnmarkUnkeyedSql).Bind("@queue", queue).ExecuteNonQuery();
            return 0;
        }, ct).ConfigureAwait(false);
        _limited.Invalidate();
        signals.JobsAvailable.Set();
    }

    private const string MarkUnkeyedSql = "UPDATE jobs SET unkeyed_turn = 1 WHERE queue = @queue AND concurrency_key IS NULL AND state <> 'succeeded'";

    private const string UnmarkUnkeyedSql = "UPDATE jobs SET unkeyed_turn = NULL WHERE queue = @queue AND unkeyed_turn = 1";

    // Per key: the running jobs are marked, and the running total is no longer kept.
    private const string AdoptMarkedSql = """
        UPDATE jobs SET slot = 1 WHERE queue = @queue AND state = 'running';
        UPDATE queue_limits SET held = 0 WHERE queue = @queue
        """;

    // Without keys: the running jobs are the total (a mark from per key comes off).
    private const string AdoptCountedSql = """
        UPDATE jobs SET slot = NULL WHERE queue = @queue AND slot = 1 AND state = 'running';
        UPDATE queue_limits SET held = (SELECT count(*) FROM jobs WHERE queue = @queue AND state = 'running') WHERE queue = @queue
        """;

    private const string SucceededSql = $"UPDATE queue_limits SET held = held - @n WHERE queue = @queue AND NOT {PerKeySql}";

    /// <summary>Takes a report batch's successes (per queue) off the running totals of queues limited without keys, in its
    /// transaction. Every other way out of running is taken off by the counting trigger (schema migration 15). Every queue
    /// of the batch is asked, not only those this instance knows as limited: its view may be a second old.</summary>
    public void Succeeded(Dictionary<string, int> succeeded)
    {
        foreach (var (queue, n) in succeeded) db.Raw(SucceededSql).Bind("@queue", queue).Bind("@n", n).Execute();
    }

    public async Task QueueLimitsClearAsync(string queue, CancellationToken ct)
    {
        await db.WriteAsync(_ =>
        {
            ThrowIfUnknownQueue(queue);
            db.Prepared("DELETE FROM queue_limits WHERE queue = @queue").Bind("@queue", queue).ExecuteNonQuery();
            db.Prepared(UnmarkUnkeyedSql).Bind("@queue", queue).ExecuteNonQuery();
            db.Prepared("DELETE FROM queue_starts WHERE queue = @queue").Bind("@queue", queue).ExecuteNonQuery();
            db.Prepared("DELETE FROM queue_key_starts WHERE queue = @queue").Bind("@queue", queue).ExecuteNonQuery();
            return 0;
        }, ct).ConfigureAwait(false);
        _limited.Invalidate();
        signals.JobsAvailable.Set();
    }

    private void ThrowIfUnknownQueue(string queue)
    {
        using var r = db.Prepared("SELECT EXISTS (SELECT 1 FROM queue_limits WHERE queue = @queue) OR EXISTS (SELECT 1 FROM jobs WHERE queue = @queue)")
            .Bind("@queue", queue).ExecuteReader();
        if (!r.Read() || r.GetInt64(0) == 0) throw new QueueNotFoundException(queue);
    }

    public Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct) => db.ReadAsync<IReadOnlyList<QueueLimitStatus>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT l.queue, l.concurrency, l.per_key, l.rate_count, l.rate_window_ms, l.key_rate_count, l.key_rate_window_ms,
                   CASE WHEN NOT {PerKeySql} THEN l.held
                     ELSE (SELECT count(*) FROM jobs AS s WHERE s.queue = l.queue AND s.slot = 1 AND s.state = 'running') END,
                   (SELECT coalesce(sum(s.n), 0) FROM queue_starts AS s WHERE s.queue = l.queue AND l.rate_window_ms IS NOT NULL AND s.at > @now - l.rate_window_ms),
                   CASE WHEN l.per_key IS NULL THEN 0 ELSE (
                     SELECT count(*) FROM (
                       SELECT s.concurrency_key AS k FROM jobs AS s WHERE s.queue = l.queue AND s.slot = 1 AND s.state = 'running'
                       GROUP BY s.concurrency_key HAVING count(*) >= l.per_key) AS f
                     WHERE CASE WHEN f.k IS NULL
                       THEN EXISTS (SELECT 1 FROM jobs AS q WHERE q.state = 'queued' AND q.unkeyed_turn = 1 AND q.queue = l.queue)
                       ELSE EXISTS (SELECT 1 FROM jobs AS q WHERE q.state = 'queued' AND q.queue = l.queue AND q.concurrency_key = f.k) END) END
            FROM queue_limits AS l ORDER BY l.queue
            """;
        cmd.Parameters.AddWithValue("@now", db.NowMs());
        using var r = cmd.ExecuteReader();
        var list = new List<QueueLimitStatus>();
        while (r.Read())
        {
            static long? At(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
            var limits = QueueLimits.FromStored(At(r, 1), At(r, 2), At(r, 3), At(r, 4), At(r, 5), At(r, 6));
            if (limits is null) continue;
            list.Add(new QueueLimitStatus(r.GetString(0), limits, r.GetInt64(7), r.GetInt64(8)) { KeysAtLimit = r.GetInt64(9) });
        }
        return list;
    }, ct);
}
