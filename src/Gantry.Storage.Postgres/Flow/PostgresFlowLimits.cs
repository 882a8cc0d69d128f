using Gantry.Flow;
using Gantry.Jobs;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Queue flow limits: their settings, and the limited claim's statements (run by <see cref="PostgresClaims"/>). A change invalidates <paramref name="limited"/>, which claims read.</summary>
internal sealed partial class PostgresFlowLimits(PostgresDatabase db, PostgresLimitedQueues limited) : IStoreFlowLimits
{
    // Jobs without a key of a per-key queue take turns as one key: their ready rows carry the key '' (PostgresSchema
    // migration 24), set by the triggers that add ready rows as the limits are then. A setting that turns the queue to per
    // key keys the rows there are; one that turns it from per key (or a clear) takes the key off (the plain claim does not
    // read it; a later per-key setting keys them again).
    private const string KeyUnkeyedSql = "UPDATE job_ready SET concurrency_key = '' WHERE queue = @queue AND concurrency_key IS NULL";
    private const string UnkeyUnkeyedSql = "UPDATE job_ready SET concurrency_key = NULL WHERE queue = @queue AND concurrency_key = ''";

    /// <summary>
    /// Keys the ready rows without a key of every per-key queue. A transaction that added ready rows while a setting turned
    /// their queue to per key, its triggers having read the limits as they were before (its snapshot), commits them
    /// unkeyed after the setting keyed the rows it saw; the upkeep runs this once a minute, so that such a job waits a
    /// minute at most. Reads the queued jobs of per-key queues (the claim index's range of each), writes only those rows.
    /// </summary>
    internal const string KeyStragglersSql = """
        UPDATE job_ready AS r SET concurrency_key = '' FROM queue_limits AS l
        WHERE (l.per_key IS NOT NULL OR l.key_rate_count IS NOT NULL) AND l.queue = r.queue AND r.concurrency_key IS NULL
        """;

    // Locks the queue's limit row for the rest of the claim's transaction: limited claims of one queue run one at a
    // time cluster-wide, and the claim statement after it (a new snapshot under READ COMMITTED) sees every slot and
    // start the previous holders committed.
    internal const string LockLimitsSql = "SELECT 1 FROM queue_limits WHERE queue = @queue FOR UPDATE";

    private const string ReadyFilters = """
        (@types::text[] IS NULL OR r.type = ANY(@types))
        AND (r.required_capabilities IS NULL OR r.required_capabilities <@ @caps)
        """;

    // The claim of a limited queue: as ClaimSql, but it takes at most the room the limits leave (concurrency less the
    // slots held, and no more than QueueLimits.ClaimCeiling of it in one claim; rate less the starts within the
    // window, by the database's clock taken after the lock), and records its starts for the rate. Without keys the slots
    // held are the queue's running total (PostgresSchema migration 22): the claim stamps its jobs with the limit's epoch
    // and folds the total, so its update and their successes stay heap-only. Per key it marks its jobs `slot` and counts
    // the marked jobs over the partial index jobs_slots (migration 20): for a concurrency limit the queue's, for a per-key
    // limit only those of the keys the claim walks. A queue whose limits were
    // cleared since this instance last read them gets no room (its claims take the plain path within a second).
    // With a per-key limit the keys are served round-robin: the claim walks the keys with claimable jobs (over
    // job_ready_key) from the one after where the last claim stopped (queue_limits.cursor_key), wrapping around, reading
    // each key's turn as it goes (its first jobs this worker may run, up to its free room and FlowSql.KeyTurn), until the
    // turns read fill the room (or as many keys as the room); from each key it takes the turn it read, or, when the walk
    // ran out of keys first, its first jobs up to its free room and an equal share of the room; candidates go lowest
    // turn first (the key's slots held + the job's place), then walk order; the cursor moves to the last key served, or
    // past every key walked when the claim came back short. Its cost follows the jobs it claims, not the keys.
    // A key's room is also bounded by its rate per key (its starts within the window, recorded per key served in
    // queue_key_starts); a queue with only a rate per key is claimed by the same walk.
    private static string LimitedClaimSql(bool perKey)
    {
        var pick = perKey
            ? "SELECT pick.rid FROM pick"
            : $"""
              SELECT r.ctid FROM job_ready AS r
              WHERE r.queue = @queue AND {ReadyFilters}
              ORDER BY r.priority DESC, r.seq
              LIMIT (SELECT n FROM room)
              FOR UPDATE SKIP LOCKED
              """;
        // The next key after {0} with a job this worker may run, and its first such jobs up to lim.turn: one descent into
        // job_ready_key that reads lim.turn entries (when the key has fewer, the rest are later keys', left for their turn).
        // The aggregates take the rows in the order the subquery's ORDER BY … LIMIT delivers them (nothing between them can
        // reorder rows), so the first key's entries lead both arrays; an ORDER BY of their own would sort again per key.
        const string NextKey = $$"""
            SELECT t.ks[1] AS k, t.rids[1:cardinality(array_positions(t.ks, t.ks[1]))] AS rids
            FROM (
              SELECT array_agg(x.k) AS ks, array_agg(x.rid) AS rids FROM (
                SELECT r.concurrency_key AS k, r.ctid AS rid, r.priority, r.seq FROM job_ready AS r
                WHERE r.queue = @queue AND r.concurrency_key > {0} AND {{ReadyFilters}}
                ORDER BY r.concurrency_key, r.priority DESC, r.seq LIMIT lim.turn) AS x
              HAVING count(*) > 0) AS t
            """;
        // How many more jobs of key {0} may start now ({1}.n: the slots it holds): its per-key limit less those slots, and
        // its rate per key less its starts within the window (jobs without a key count as the key ''); either absent, no bound.
        // OFFSET 0 keeps it a subquery of its own, computed once per key: pulled up into the walk, its expression (with the
        // starts' subquery) was copied into each of the three places that read the room, and ran three times per key.
        var keyRoom = $$"""
            SELECT least(coalesce(lim.per_key - {1}.n, {{QueueLimits.MaxLimit}}),
                         coalesce(lim.key_rate_count - (SELECT coalesce(sum(s.n), 0) FROM queue_key_starts AS s
                                                        WHERE lim.key_rate_count IS NOT NULL AND s.queue = @queue
                                                          AND s.concurrency_key = coalesce({0}, '') AND s.at > lim.now - lim.key_window),
                                  {{QueueLimits.MaxLimit}})) AS n OFFSET 0
            """;
        // A walked key f: the slots it holds (held), its free room (free), and its turn: the jobs the walk read, up to that
        // room. The count of the turns' jobs (got) stops the walk.
        var turn = $"""
            CROSS JOIN LATERAL ({SlotsHeld("s.queue = @queue AND s.concurrency_key = f.k", "lim.per_key")}) AS held
            CROSS JOIN LATERAL ({string.Format(keyRoom, "f.k", "held")}) AS free
            CROSS JOIN LATERAL (SELECT f.rids[1:greatest(0, free.n)::int] AS rids) AS jobs
            """;
        var candidates = !perKey ? "" : $"""
            keys_fwd(k, ord, got, held, free, rids) AS (
              SELECT f.k, 1::bigint, cardinality(jobs.rids)::bigint, held.n, free.n, jobs.rids
              FROM lim CROSS JOIN LATERAL ({string.Format(NextKey, "lim.cursor_key")}) AS f {turn}
              UNION ALL
              SELECT f.k, keys_fwd.ord + 1, keys_fwd.got + cardinality(jobs.rids), held.n, free.n, jobs.rids
              FROM keys_fwd CROSS JOIN lim CROSS JOIN LATERAL ({string.Format(NextKey, "keys_fwd.k")}) AS f {turn}
              WHERE keys_fwd.ord < (SELECT n FROM room) AND keys_fwd.got < (SELECT n FROM room)),
            walked AS (
              SELECT count(*) AS n, coalesce(max(got), 0) AS got FROM keys_fwd),
            keys_wrap(k, ord, got, held, free, rids) AS (
              SELECT f.k, walked.n + 1, walked.got + cardinality(jobs.rids), held.n, free.n, jobs.rids
              FROM lim CROSS JOIN walked CROSS JOIN LATERAL ({string.Format(NextKey, "''")}) AS f {turn}
              WHERE lim.cursor_key <> '' AND walked.n < (SELECT n FROM room) AND walked.got < (SELECT n FROM room)
              UNION ALL
              SELECT f.k, keys_wrap.ord + 1, keys_wrap.got + cardinality(jobs.rids), held.n, free.n, jobs.rids
              FROM keys_wrap CROSS JOIN lim CROSS JOIN LATERAL ({string.Format(NextKey, "keys_wrap.k")}) AS f {turn}
              WHERE keys_wrap.k < lim.cursor_key AND keys_wrap.ord < (SELECT n FROM room) AND keys_wrap.got < (SELECT n FROM room)),
            keys AS (
              SELECT * FROM keys_fwd
              UNION ALL
              SELECT w.* FROM keys_wrap AS w, lim WHERE w.k <= lim.cursor_key),
            -- Each key walked takes up to its free room and an equal share of the room, at least its turn: the turn's jobs
            -- the walk read, or (when the walk ran out of keys before the room's worth of turns) its first jobs up to the share.
            share AS (
              SELECT lim.turn, greatest(lim.turn, ceil((SELECT n FROM room)::numeric / greatest(1, (SELECT count(*) FROM keys))))::bigint AS q FROM lim),
            cand AS (
              SELECT c.rid, keys.k, keys.ord, keys.held + c.rn AS turn
              FROM share CROSS JOIN keys
              CROSS JOIN LATERAL (
                SELECT t.rid, t.rn FROM unnest(keys.rids) WITH ORDINALITY AS t(rid, rn) WHERE share.q = share.turn
                UNION ALL
                (SELECT r.ctid, row_number() OVER (ORDER BY r.priority DESC, r.seq)
                 FROM job_ready AS r
                 WHERE share.q > share.turn AND r.queue = @queue AND r.concurrency_key = keys.k AND {ReadyFilters}
                 ORDER BY r.priority DESC, r.seq
                 LIMIT greatest(0, least(share.q, keys.free)))) AS c
              UNION ALL
              SELECT c.rid, NULL, 0, b.n + row_number() OVER (ORDER BY c.priority DESC, c.seq)
              FROM lim CROSS JOIN share
              CROSS JOIN LATERAL ({SlotsHeld("s.queue = @queue AND s.concurrency_key IS NULL", "lim.per_key")}) AS b
              CROSS JOIN LATERAL ({string.Format(keyRoom, "NULL", "b")}) AS free
              CROSS JOIN LATERAL (
                SELECT r.ctid AS rid, r.priority, r.seq FROM job_ready AS r
                WHERE r.queue = @queue AND r.concurrency_key = '' AND {ReadyFilters}
                ORDER BY r.concurrency_key, r.priority DESC, r.seq
                LIMIT greatest(0, least(share.q, free.n))) AS c),
            -- (turn, ord) orders every candidate: a key's jobs have their own turns, and jobs without a key walk first (0).
            pick AS (
              SELECT cand.rid, cand.k, cand.ord FROM cand ORDER BY cand.turn, cand.ord LIMIT (SELECT n FROM room)),
            -- A claim that fills its room moves the cursor to the last key it served (a key walked but outdone on turns
            -- keeps its turn); one that comes back short took every job the walked keys could give, so it moves past all
            -- of them: keys whose room is used up (a rate per key for a whole window) or whose jobs this worker cannot run
            -- never hold the walk in place.
            moved AS (
              UPDATE queue_limits SET cursor_key = coalesce(CASE
                  WHEN (SELECT count(*) FROM pick) < (SELECT n FROM room) THEN (SELECT keys.k FROM keys ORDER BY keys.ord DESC LIMIT 1)
                  ELSE (SELECT pick.k FROM pick WHERE pick.k IS NOT NULL ORDER BY pick.ord DESC LIMIT 1) END, cursor_key)
              WHERE queue = @queue AND (SELECT n FROM room) > 0 AND EXISTS (SELECT 1 FROM keys)),
            """;
        // Each statement takes nothing from a queue whose limits turned from or to per key since this instance read them
        // (the plain one counts a running total, the per-key one marked jobs): it claims by the other statement once it
        // reads them again (within LimitedQueues.RefreshEvery).
        var scheme = perKey ? " WHERE lim.epoch IS NULL" : " WHERE lim.epoch IS NOT NULL";
        // Without keys the slots held are the queue's running total: as of its last limited claim, plus the deltas of
        // its epoch appended since (taken out here: the total absorbs them), plus this claim's jobs.
        var total = perKey ? "" : """
            folded AS (
              DELETE FROM queue_held_deltas AS d WHERE d.queue = @queue RETURNING d.epoch, d.n),
            total AS (
              SELECT lim.held + coalesce((SELECT sum(f.n) FROM folded AS f WHERE f.epoch = lim.epoch), 0) AS n FROM lim),
            """;
        var kept = perKey ? "" : """
            kept AS (
              UPDATE queue_limits SET held = (SELECT n FROM total) + (SELECT count(*) FROM claimed)
              WHERE queue = @queue AND (EXISTS (SELECT 1 FROM folded) OR EXISTS (SELECT 1 FROM claimed))),
            """;
        var slotsHeld = perKey ? SlotsHeld("s.queue = @queue", "lim.concurrency") : "SELECT n FROM total";
        var mark = perKey ? "slot = true, held_epoch = NULL" : "held_epoch = (SELECT epoch FROM lim)";
        var keyStarts = !perKey ? "" : """
            key_started AS (
              INSERT INTO queue_key_starts (queue, concurrency_key, at, n)
              SELECT @queue, coalesce(ready.concurrency_key, ''), lim.now, count(*)
              FROM claimed JOIN ready ON ready.job_id = claimed.id CROSS JOIN lim
              WHERE EXISTS (SELECT FROM lim WHERE lim.key_rate_count IS NOT NULL) -- a one-time filter: no join without a rate per key
              GROUP BY 2, 3),
            key_expired AS (
              DELETE FROM queue_key_starts AS s USING lim
              WHERE lim.key_rate_count IS NOT NULL AND s.queue = @queue AND s.at <= lim.now - lim.key_window),
            """;
        return $"""
            WITH RECURSIVE lim AS (
              SELECT l.concurrency, l.per_key, l.rate_count, l.rate_window_ms * interval '1 millisecond' AS window, l.cursor_key, clock_timestamp() AS now,
                     l.key_rate_count, l.key_rate_window_ms * interval '1 millisecond' AS key_window, l.epoch, l.held,
                     least(coalesce(l.per_key, {FlowSql.KeyTurn}), {FlowSql.KeyTurn}) AS turn
              FROM queue_limits AS l WHERE l.queue = @queue),
            {total}
            room AS (
              SELECT CASE WHEN EXISTS (SELECT 1 FROM lim{scheme}) AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = @queue) AND {WorkerStates.ClaimsSql}
                THEN greatest(0, least(@limit::bigint,
                  coalesce((SELECT lim.concurrency - ({slotsHeld}) FROM lim WHERE lim.concurrency IS NOT NULL), @limit),
                  coalesce((SELECT {FlowSql.ClaimCeiling("concurrency")} FROM lim WHERE concurrency IS NOT NULL), @limit),
                  coalesce((SELECT lim.rate_count - (SELECT coalesce(sum(s.n), 0) FROM queue_starts AS s WHERE s.queue = @queue AND s.at > lim.now - lim.window) FROM lim), @limit)))
                ELSE 0 END AS n),
            {candidates}
            ready AS (
              DELETE FROM job_ready WHERE ctid = ANY(ARRAY({pick}))
              RETURNING job_id, concurrency_key),
            claimed AS (
              UPDATE jobs
              SET state = '{JobState.Running.ToText()}', attempt = attempt + 1, worker_id = @worker,
                  started_at = @now, progress = NULL, progress_message = NULL, {mark}
              FROM ready
              WHERE jobs.id = ready.job_id AND jobs.{StateSql.From(JobTransition.Claim)}
              RETURNING {PostgresClaims.ClaimedColumns}),
            started AS (
              INSERT INTO queue_starts (queue, at, n)
              SELECT @queue, lim.now, (SELECT count(*) FROM claimed) FROM lim WHERE lim.rate_count IS NOT NULL AND EXISTS (SELECT 1 FROM claimed)),
            expired AS (
              DELETE FROM queue_starts AS s USING lim WHERE s.queue = @queue AND s.at <= lim.now - lim.window),
            {keyStarts}
            {kept}
            lease AS (
              {PostgresLeases.ClaimLeaseRecord("claimed")})
            SELECT claimed.*, (SELECT seq FROM lease) FROM claimed
            """;
    }

    // The slots held by the marked running jobs that match {where}, counted up to {most} (null: all): no more is needed,
    // as a count at the limit leaves no room. Read by walking jobs_slots in its order, which a bitmap scan cannot: an
    // index scan marks the entries of jobs that left running (dead versions) as dead as it passes them, so the next count
    // skips them; a bitmap scan never does, and every count visited the heap for each ended job since the last vacuum
    // (tens of thousands in a drain, half of a claim's time).
    private static string SlotsHeld(string where, string most) => $"""
        SELECT count(*) AS n FROM (
          SELECT FROM jobs AS s WHERE {where} AND s.slot ORDER BY s.queue, s.concurrency_key LIMIT {most}) AS held
        """;

    internal static readonly string LimitedClaimPlainSql = LimitedClaimSql(perKey: false);
    internal static readonly string LimitedClaimPerKeySql = LimitedClaimSql(perKey: true);

    public async Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct)
    {
        limits = limits.Validated();
        await db.TransactAsync(async c =>
        {
            if (!anyQueue) await ThrowIfUnknownQueueAsync(c, queue, ct).ConfigureAwait(false);
            bool? perKeyBefore; // null: no limits before
            await using (var had = Command(c, "SELECT epoch IS NULL FROM queue_limits WHERE queue = @queue FOR UPDATE").Bind("@queue", queue))
                perKeyBefore = await had.ExecuteScalarAsync(ct).ConfigureAwait(false) as bool?;
            await using (var set = Command(c, """
                INSERT INTO queue_limits (queue, concurrency, per_key, rate_count, rate_window_ms, key_rate_count, key_rate_window_ms, updated_at)
                VALUES (@queue, @concurrency, @per_key, @rate_count, @rate_window_ms, @key_rate_count, @key_rate_window_ms, @now)
                ON CONFLICT (queue) DO UPDATE SET concurrency = excluded.concurrency, per_key = excluded.per_key,
                  rate_count = excluded.rate_count, rate_window_ms = excluded.rate_window_ms,
                  key_rate_count = excluded.key_rate_count, key_rate_window_ms = excluded.key_rate_window_ms, updated_at = excluded.updated_at
                """)
                .Bind("@queue", queue)
                .Bind("@concurrency", limits.Concurrency, NpgsqlDbType.Integer)
                .Bind("@per_key", limits.PerKey, NpgsqlDbType.Integer)
                .Bind("@rate_count", limits.Rate?.Count, NpgsqlDbType.Integer)
                .Bind("@rate_window_ms", limits.Rate is { } r ? (long?)r.Per.TotalMilliseconds : null, NpgsqlDbType.Bigint)
                .Bind("@key_rate_count", limits.RatePerKey?.Count, NpgsqlDbType.Integer)
                .Bind("@key_rate_window_ms", limits.RatePerKey is { } kr ? (long?)kr.Per.TotalMilliseconds : null, NpgsqlDbType.Bigint)
                .Bind("@now", db.Now()))
                await set.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            // A queue that gets limits, or whose limits turn from or to per key: its jobs running now count against them from
            // now on, as that kind of limit counts them (one scan of jobs, only then). The queue's row is locked by the
            // upsert above, so no limited claim runs meanwhile.
            if (perKeyBefore != limits.IsPerKey)
            {
                await using var adopt = Command(c, limits.IsPerKey ? AdoptMarkedSql : AdoptCountedSql).Bind("@queue", queue);
                await adopt.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            if ((perKeyBefore is true) != limits.IsPerKey)
            {
                await using var key = Command(c, limits.IsPerKey ? KeyUnkeyedSql : UnkeyUnkeyedSql).Bind("@queue", queue);
                await key.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return 0;
        }, ct).ConfigureAwait(false);
        limited.Invalidate();
        db.Signals.JobsAvailable.Set();
    }

    // Per key: the running jobs are marked, and the running total goes.
    private static readonly string AdoptMarkedSql = $"""
        UPDATE jobs SET slot = true WHERE queue = @queue AND state = '{JobState.Running.ToText()}';
        UPDATE queue_limits SET epoch = NULL, held = 0 WHERE queue = @queue;
        DELETE FROM queue_held_deltas WHERE queue = @queue
        """;

    // Without keys: a fresh epoch, the running jobs stamped with it (a mark from per key comes off) and counted. A job
    // that left running before this statement saw it is neither stamped nor counted, and the delta its exit appended
    // (of an older epoch) is not folded: the total is exact whatever reports commit meanwhile.
    private static readonly string AdoptCountedSql = $"""
        WITH fresh AS (
          SELECT nextval('queue_limit_epochs') AS epoch),
        adopted AS (
          UPDATE jobs SET held_epoch = (SELECT epoch FROM fresh), slot = NULL
          WHERE queue = @queue AND state = '{JobState.Running.ToText()}' RETURNING 1)
        UPDATE queue_limits SET epoch = (SELECT epoch FROM fresh), held = (SELECT count(*) FROM adopted) WHERE queue = @queue
        """;

    public async Task QueueLimitsClearAsync(string queue, CancellationToken ct)
    {
        await db.TransactAsync(async c =>
        {
            await ThrowIfUnknownQueueAsync(c, queue, ct).ConfigureAwait(false);
            await using var clear = Command(c, "DELETE FROM queue_limits WHERE queue = @queue").Bind("@queue", queue);
            await clear.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            // Slots of a queue without limits count nothing: its running jobs lose their mark (and their entries in
            // jobs_slots), its running total goes (the epoch stamps left on jobs are no limit's now: what their exits
            // append, the upkeep deletes), and its starts (per queue and per key) go.
            await using var slots = Command(c, $"""
                UPDATE jobs SET slot = NULL WHERE queue = @queue AND slot;
                DELETE FROM queue_held_deltas WHERE queue = @queue;
                DELETE FROM queue_starts WHERE queue = @queue;
                DELETE FROM queue_key_starts WHERE queue = @queue;
                {UnkeyUnkeyedSql}
                """).Bind("@queue", queue);
            await slots.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return 0;
        }, ct).ConfigureAwait(false);
        limited.Invalidate();
        db.Signals.JobsAvailable.Set();
    }

    private static async Task ThrowIfUnknownQueueAsync(NpgsqlConnection c, string queue, CancellationToken ct)
    {
        await using var known = Command(c, "SELECT EXISTS (SELECT 1 FROM queue_limits WHERE queue = @queue) OR EXISTS (SELECT 1 FROM jobs WHERE queue = @queue)")
            .Bind("@queue", queue);
        if (await known.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true) throw new QueueNotFoundException(queue);
    }

    public Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct) => db.RunAsync<IReadOnlyList<QueueLimitStatus>>(async c =>
    {
        await using var cmd = Command(c, """
            SELECT l.queue, l.concurrency::bigint, l.per_key::bigint, l.rate_count::bigint, l.rate_window_ms, l.key_rate_count::bigint, l.key_rate_window_ms,
                   CASE WHEN l.epoch IS NOT NULL
                     THEN l.held + (SELECT coalesce(sum(d.n), 0) FROM queue_held_deltas AS d WHERE d.queue = l.queue AND d.epoch = l.epoch)
                     ELSE (SELECT count(*) FROM jobs AS s WHERE s.queue = l.queue AND s.slot) END,
                   (SELECT coalesce(sum(s.n), 0) FROM queue_starts AS s
                    WHERE s.queue = l.queue AND l.rate_window_ms IS NOT NULL AND s.at > clock_timestamp() - l.rate_window_ms * interval '1 millisecond'),
                   CASE WHEN l.per_key IS NULL THEN 0 ELSE (
                     SELECT count(*) FROM (
                       SELECT s.concurrency_key FROM jobs AS s WHERE s.queue = l.queue AND s.slot
                       GROUP BY s.concurrency_key HAVING count(*) >= l.per_key) AS f
                     WHERE EXISTS (SELECT 1 FROM job_ready AS r WHERE r.queue = l.queue AND r.concurrency_key = coalesce(f.concurrency_key, ''))) END
            FROM queue_limits AS l ORDER BY l.queue
            """);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<QueueLimitStatus>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var limits = QueueLimits.FromStored(r.GetInt64OrNull(1), r.GetInt64OrNull(2), r.GetInt64OrNull(3), r.GetInt64OrNull(4), r.GetInt64OrNull(5), r.GetInt64OrNull(6));
            if (limits is null) continue;
            list.Add(new QueueLimitStatus(r.GetString(0), limits, Convert.ToInt64(r.GetValue(7)), Convert.ToInt64(r.GetValue(8))) { KeysAtLimit = Convert.ToInt64(r.GetValue(9)) });
        }
        return list;
    }, ct);
}
