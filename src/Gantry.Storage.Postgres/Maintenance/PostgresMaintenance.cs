using Gantry.Jobs;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>The leader's upkeep: promotion of due jobs, rescue of expired leases, retention and cleaning, folding the kept counts, vacuums.</summary>
internal sealed class PostgresMaintenance(PostgresDatabase db, PostgresCounts counts, PostgresWorkflows workflows) : IStoreMaintenance
{
    // SKIP LOCKED: two schedulers (or a scheduler and a cancel) never wait for each other's rows. due_at is run_at
    // while the job is scheduled and null otherwise (a stored column), so the due index holds scheduled jobs only.
    private static readonly string PromoteSql = $"""
        UPDATE jobs SET state = '{JobState.Queued.ToText()}'
        WHERE id = ANY(ARRAY(
            SELECT id FROM jobs WHERE due_at <= @now
            ORDER BY due_at LIMIT @limit FOR UPDATE SKIP LOCKED))
          AND {StateSql.From(JobTransition.Promote)}
        """;

    public async Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct)
    {
        var promoted = await db.TransactAsync(async c =>
        {
            var n = await Command(c, PromoteSql).Bind("@now", db.Now()).Bind("@limit", p.Limit).RunAsync(ct).ConfigureAwait(false);
            if (n > 0) await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return n;
        }, ct).ConfigureAwait(false);
        if (promoted > 0) db.Signals.JobsAvailable.Set();
        return promoted;
    }

    public Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct) => db.RunAsync(async c =>
        await Command(c, "SELECT min(due_at) FROM jobs WHERE due_at IS NOT NULL").ScalarAsync(ct).ConfigureAwait(false) is DateTime at
            ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
            : (DateTimeOffset?)null, ct);

    /// <summary>How often the upkeep keys ready rows left without a key in per-key queues (<see cref="PostgresFlowLimits.KeyStragglersSql"/>).</summary>
    private static readonly TimeSpan KeyStragglersEvery = TimeSpan.FromMinutes(1);
    private long _stragglersKeyedAt;

    /// <summary>Dead rows in job_ready worth a vacuum: each claim leaves one per job it took, and every claim walks
    /// them (marked dead after the first walk, still read page by page) until a vacuum removes them.</summary>
    private const long ReadyDeadRowsToVacuum = 2000;

    // Autovacuum looks at a database once a minute at most; at tens of thousands of claims a second that is a million
    // dead rows for every claim to walk. VACUUM of job_ready costs in proportion to its dead and live rows only (the
    // queued jobs), so the leader runs it as soon as a few thousand have piled up. SKIP_LOCKED: an autovacuum already
    // on it is as good. The dead-row count is the statistics system's (at most about a second behind).
    // queue_starts, queue_key_starts and queue_held_deltas are small but churn too (a row per claim of a rate-limited
    // queue, per key served with a rate per key, per report batch of a limited queue): vacuumed on the same rule.
    public Task<UpkeepResult> UpkeepAsync(CancellationToken ct) => db.RunAsync(async c =>
    {
        // The queue counts' deltas are folded every round, so a read of the counts adds at most a round's worth.
        await counts.FoldCountsAsync(c, ct).ConfigureAwait(false);
        var dead = new List<(string Table, long Dead)>();
        // With the read of the dead rows, in the same statement (no transaction more per round): running totals' deltas of
        // epochs no limit has (the queue's limits were cleared or turned per key), which no claim folds, go.
        await using (var cmd = Command(c, """
            WITH stale AS (
              DELETE FROM queue_held_deltas AS d WHERE NOT EXISTS (SELECT 1 FROM queue_limits AS l WHERE l.queue = d.queue AND l.epoch = d.epoch))
            SELECT relname, coalesce(n_dead_tup, 0) FROM pg_stat_user_tables
            WHERE schemaname = current_schema() AND relname IN ('job_ready', 'queue_starts', 'queue_key_starts', 'queue_count_deltas', 'queue_held_deltas')
            """))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                dead.Add((r.GetString(0), r.GetInt64(1)));
        // Jobs without a key that a transaction concurrent with a per-key setting left unkeyed: keyed within a minute.
        if (db.Time.GetElapsedTime(_stragglersKeyedAt) >= KeyStragglersEvery)
        {
            await Command(c, PostgresFlowLimits.KeyStragglersSql).RunAsync(ct).ConfigureAwait(false);
            _stragglersKeyedAt = db.Time.GetTimestamp();
        }
        long cleared = 0, pending = 0;
        foreach (var (table, rows) in dead)
        {
            if (rows < ReadyDeadRowsToVacuum)
            {
                pending += rows;
                continue;
            }
            await Command(c, $"VACUUM (SKIP_LOCKED) {table}").RunAsync(ct).ConfigureAwait(false);
            cleared += rows;
        }
        return new UpkeepResult(cleared, pending);
    }, ct);

    public async Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct)
    {
        var rescued = await db.TransactAsync<IReadOnlyList<RescuedJob>>(async c =>
        {
            var now = db.Now();
            var candidates = new HashSet<(string Worker, Guid Id, int Attempt)>();
            // A record names up to a claim's worth of jobs: records are taken a few at a time until the attempts they
            // name reach the limit or none has expired (most name only finished jobs, of workers that stopped).
            var perRound = Math.Clamp(p.Limit / 64, 1, 64);
            while (candidates.Count < p.Limit)
            {
                var records = new HashSet<long>();
                await using (var cmd = Command(c, PostgresLeases.ExpiredLeasesSql).Bind("@now", now).Bind("@records", perRound))
                await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(ct).ConfigureAwait(false))
                    {
                        records.Add(r.GetInt64(0));
                        candidates.Add((r.GetString(1), r.GetGuid(2), r.GetInt32(3)));
                    }
                }
                if (records.Count < perRound) break;
            }
            if (candidates.Count == 0) return [];
            var expired = await PostgresArrayUpdate.RunAsync(c, PostgresLeases.ExpiredAttemptsSql,
            [
                new NpgsqlParameter { Value = candidates.Select(x => x.Id).ToArray() },
                new NpgsqlParameter { Value = candidates.Select(x => x.Attempt).ToArray() },
                new NpgsqlParameter { Value = candidates.Select(x => x.Worker).ToArray() },
                new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            ], r => (Id: r.GetGuid(0), Attempt: r.GetInt32(1), MaxAttempts: r.GetInt32(2), Worker: r.GetStringOrNull(3), CancelRequested: r.GetBoolean(4)), ct)
                .ConfigureAwait(false);
            var list = new List<RescuedJob>(expired.Count);
            foreach (var job in expired)
            {
                var next = RetryPolicy.AfterLostWorker(job.Attempt, job.MaxAttempts, job.CancelRequested);
                var seq = await Command(c, $"""
                    UPDATE jobs SET state = @next, lease_until = NULL, finished_at = @finished_at
                    WHERE {FenceSql.Attempt(worker: null)}
                    RETURNING seq
                    """).Bind("@next", next.ToText()).Bind("@finished_at", next.IsTerminal() ? now : (object?)null, NpgsqlDbType.TimestampTz)
                    .Bind("@id", job.Id).Bind("@attempt", job.Attempt).ScalarAsync(ct).ConfigureAwait(false);
                if (seq is long rescuedSeq && next.IsTerminal()) await workflows.StepStoppedAsync(c, rescuedSeq, now, ct).ConfigureAwait(false);
                if (!job.CancelRequested)
                    await PostgresReports.InsertErrorAsync(c, job.Id, job.Attempt, now, job.Worker, WorkerLoss.Error(job.Worker, "stopped renewing the lease"), ct).ConfigureAwait(false);
                list.Add(new RescuedJob(job.Id, job.Attempt, job.Worker, next));
            }
            if (list.Any(r => r.NewState == JobState.Queued)) await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return list;
        }, ct).ConfigureAwait(false);
        if (rescued.Any(r => r.NewState == JobState.Queued)) db.Signals.JobsAvailable.Set();
        if (rescued.Any(r => r.NewState.IsTerminal())) db.JobsEnded();
        return rescued;
    }

    public Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct) => db.TransactAsync(async c =>
    {
        var now = db.Now();
        var defaultMs = (long)p.Retention.TotalMilliseconds;
        // No index on finished_at: it would cost every completion an index write. Ids grow with time
        // (UUIDv7), so walking the id index upward finds old finished jobs first. Their errors go with them (ON DELETE CASCADE).
        // A workflow's steps go together, once all have finished, and their edges with them. A job holding an idempotency
        // key stays at least the default retention, so that its key is not taken again sooner.
        var deleted = Convert.ToInt32(await Command(c, $"""
            WITH gone AS (
              DELETE FROM jobs WHERE id = ANY(ARRAY(
                SELECT id FROM jobs WHERE state IN ('succeeded', 'dead', 'cancelled')
                  AND finished_at < @now - {RetentionSql.RetentionMs} * interval '1 millisecond'
                  AND (idempotency_key IS NULL OR finished_at < @now - @default_ms * interval '1 millisecond')
                  AND {WorkflowSql.CleanableStep}
                ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED))
              RETURNING seq, workflow_id),
            edges AS (
              DELETE FROM job_dependencies WHERE job_seq = ANY(ARRAY(SELECT seq FROM gone WHERE workflow_id IS NOT NULL)))
            SELECT count(*) FROM gone
            """).Bind("@now", now).Bind("@default_ms", defaultMs).Bind("@limit", p.Limit).ScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (deleted > 0) await Command(c, WorkflowSql.DeleteEmptyWorkflows).RunAsync(ct).ConfigureAwait(false);
        await Command(c, ScheduleSql.PruneFires).Bind("@fire_cutoff", now - p.Retention).RunAsync(ct).ConfigureAwait(false);
        await Command(c, "DELETE FROM audit_log WHERE at < @audit_cutoff").Bind("@audit_cutoff", now - Audit.Retention).RunAsync(ct).ConfigureAwait(false);
        await Command(c, JobCleanParams.PruneWorkersSql).Bind("@worker_cutoff", db.Time.GetUtcNow().UtcDateTime - (p.WorkerRetention ?? p.Retention))
            .Bind("@limit", p.Limit).RunAsync(ct).ConfigureAwait(false);
        return deleted;
    }, ct);

    public async Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct) =>
        await db.RunAsync(async c => p.Validated().Succeeded is null && p.Dead is null && p.Cancelled is null
            ? await Command(c, "DELETE FROM queue_retention WHERE queue = @queue").Bind("@queue", p.Queue).RunAsync(ct).ConfigureAwait(false)
            : await Command(c, """
                INSERT INTO queue_retention (queue, succeeded_ms, dead_ms, cancelled_ms) VALUES (@queue, @succeeded, @dead, @cancelled)
                ON CONFLICT (queue) DO UPDATE SET succeeded_ms = excluded.succeeded_ms, dead_ms = excluded.dead_ms, cancelled_ms = excluded.cancelled_ms
                """).Bind("@queue", p.Queue).Bind("@succeeded", Ms(p.Succeeded), NpgsqlDbType.Bigint).Bind("@dead", Ms(p.Dead), NpgsqlDbType.Bigint)
                .Bind("@cancelled", Ms(p.Cancelled), NpgsqlDbType.Bigint).RunAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    private static long? Ms(TimeSpan? t) => t is { } v ? (long)v.TotalMilliseconds : null;

    public Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct) => db.RunAsync<IReadOnlyList<QueueRetention>>(async c =>
    {
        await using var cmd = Command(c, "SELECT queue, succeeded_ms, dead_ms, cancelled_ms FROM queue_retention ORDER BY queue");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<QueueRetention>();
        static TimeSpan? Span(long? ms) => ms is { } v ? TimeSpan.FromMilliseconds(v) : null;
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(new QueueRetention(r.GetString(0), Span(r.GetInt64OrNull(1)), Span(r.GetInt64OrNull(2)), Span(r.GetInt64OrNull(3))));
        return list;
    }, ct);
}
