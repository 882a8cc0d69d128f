using Gantry.Jobs;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The leader's housekeeping: scheduled jobs promoted when due, jobs whose lease expired rescued (their error recorded
/// through <paramref name="reports"/>, a stopped step's workflow told through <paramref name="workflows"/>), finished
/// jobs cleaned after their retention (and per-queue retention settings), and the store's upkeep.
/// </summary>
internal sealed class SqliteMaintenance(SqliteDatabase db, StoreSignals signals, SqliteWorkflows workflows, SqliteCounts counts, SqliteReports reports) : IStoreMaintenance
{
    // run_at = run_at changes nothing but names the column the counting trigger (jobs_counts_changed) fires on.
    private static readonly string PromoteSql = $"""
        UPDATE jobs SET state = '{JobState.Queued.ToText()}', run_at = run_at
        WHERE seq IN (SELECT seq FROM jobs WHERE {StateSql.From(JobTransition.Promote)} AND run_at <= @now ORDER BY run_at LIMIT @limit)
        """;

    public async Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct)
    {
        var promoted = await db.WriteAsync(_ => db.Prepared(PromoteSql).Bind("@now", db.NowMs()).Bind("@limit", p.Limit).ExecuteNonQuery(), ct)
            .ConfigureAwait(false);
        if (promoted > 0) signals.JobsAvailable.Set();
        return promoted;
    }

    public Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct) => db.ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT min(run_at) FROM jobs WHERE {StateSql.From(JobTransition.Promote)}";
        return cmd.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
    }, ct);

    public async Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct)
    {
        var rescued = await db.WriteAsync(_ =>
        {
            var now = db.NowMs();
            var expired = new List<(long Seq, Guid Id, int Attempt, int MaxAttempts, string? Worker, bool CancelRequested)>();
            using (var r = db.Prepared($"""
                SELECT seq, id, attempt, max_attempts, worker_id, cancel_requested_at IS NOT NULL FROM jobs
                WHERE {StateSql.From(JobTransition.Rescue)} AND lease_until < @now ORDER BY lease_until LIMIT @limit
                """).Bind("@now", now).Bind("@limit", p.Limit).ExecuteReader())
            {
                while (r.Read())
                    expired.Add((r.GetInt64(0), Guid.Parse(r.GetString(1)), r.GetInt32(2), r.GetInt32(3), r.GetStringOrNull(4), r.GetBoolean(5)));
            }
            var list = new List<RescuedJob>(expired.Count);
            var update = db.Prepared($"""
                UPDATE jobs SET state = @next, lease_until = NULL, finished_at = @finished_at, run_at = run_at
                WHERE {FenceSql.Attempt(key: "seq", id: "@seq", worker: null)}
                """);
            foreach (var job in expired)
            {
                var next = RetryPolicy.AfterLostWorker(job.Attempt, job.MaxAttempts, job.CancelRequested);
                var applied = update.Bind("@next", next.ToText()).Bind("@finished_at", next.IsTerminal() ? now : null)
                    .Bind("@seq", job.Seq).Bind("@attempt", job.Attempt).ExecuteNonQuery() == 1;
                if (applied && next.IsTerminal()) workflows.StepStopped(job.Seq, now);
                if (!job.CancelRequested)
                    reports.InsertError(job.Seq, job.Attempt, now, job.Worker, WorkerLoss.Error(job.Worker, "stopped renewing the lease"));
                list.Add(new RescuedJob(job.Id, job.Attempt, job.Worker, next));
            }
            return list;
        }, ct).ConfigureAwait(false);
        if (rescued.Any(r => r.NewState == JobState.Queued)) signals.JobsAvailable.Set();
        if (rescued.Any(r => r.NewState.IsTerminal())) signals.JobsEnded.Set();
        return rescued;
    }

    /// <summary>SQLite removes an index entry as its row changes: only the per-second rows of finished jobs that have left the
    /// recent window go.</summary>
    public Task<UpkeepResult> UpkeepAsync(CancellationToken ct) => db.WriteAsync(_ =>
    {
        counts.PruneFinished(db.NowMs());
        return default(UpkeepResult);
    }, ct);

    public Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct) => db.WriteAsync(_ =>
    {
        var now = db.NowMs();
        var defaultMs = (long)p.Retention.TotalMilliseconds;
        var seqs = new List<long>();
        // No index on finished_at: it would cost every completion an index write. Old finished jobs
        // sit at the low end of seq, so walking seq upward finds them first. A job holding an idempotency key
        // stays at least the default retention, so that its key is not taken again sooner.
        using (var r = db.Prepared($"""
            DELETE FROM jobs WHERE seq IN (
              SELECT seq FROM jobs WHERE state IN ('succeeded', 'dead', 'cancelled')
                AND finished_at < @now - {RetentionSql.RetentionMs}
                AND (idempotency_key IS NULL OR finished_at < @now - @default_ms)
                AND {WorkflowSql.CleanableStep} ORDER BY seq LIMIT @limit)
            RETURNING seq
            """).Bind("@now", now).Bind("@default_ms", defaultMs).Bind("@limit", p.Limit).ExecuteReader())
        {
            while (r.Read()) seqs.Add(r.GetInt64(0));
        }
        var deleteErrors = db.Prepared("DELETE FROM job_errors WHERE job_seq = @seq");
        var deleteLogs = db.Prepared("DELETE FROM job_logs WHERE job_seq = @seq");
        var deleteUsage = db.Prepared("DELETE FROM job_usage WHERE job_seq = @seq");
        var deleteEdges = db.Prepared("DELETE FROM job_dependencies WHERE job_seq = @seq");
        foreach (var seq in seqs)
        {
            deleteErrors.Bind("@seq", seq).ExecuteNonQuery();
            deleteLogs.Bind("@seq", seq).ExecuteNonQuery();
            deleteUsage.Bind("@seq", seq).ExecuteNonQuery();
            deleteEdges.Bind("@seq", seq).ExecuteNonQuery();
        }
        // A workflow goes with its last step (its steps go together, once all have finished).
        if (seqs.Count > 0) db.Prepared(WorkflowSql.DeleteEmptyWorkflows).ExecuteNonQuery();
        db.Prepared(ScheduleSql.PruneFires).Bind("@fire_cutoff", now - defaultMs).ExecuteNonQuery();
        db.Prepared("DELETE FROM audit_log WHERE at < @audit_cutoff").Bind("@audit_cutoff", now - (long)Audit.Retention.TotalMilliseconds).ExecuteNonQuery();
        db.Prepared(JobCleanParams.PruneWorkersSql).Bind("@worker_cutoff", db.NowMs() - (long)(p.WorkerRetention ?? p.Retention).TotalMilliseconds)
            .Bind("@limit", p.Limit).ExecuteNonQuery();
        return seqs.Count;
    }, ct);

    public async Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct) =>
        await db.WriteAsync(_ => p.Validated().Succeeded is null && p.Dead is null && p.Cancelled is null
            ? db.Prepared("DELETE FROM queue_retention WHERE queue = @queue").Bind("@queue", p.Queue).ExecuteNonQuery()
            : db.Prepared("""
                INSERT INTO queue_retention (queue, succeeded_ms, dead_ms, cancelled_ms) VALUES (@queue, @succeeded, @dead, @cancelled)
                ON CONFLICT (queue) DO UPDATE SET succeeded_ms = excluded.succeeded_ms, dead_ms = excluded.dead_ms, cancelled_ms = excluded.cancelled_ms
                """).Bind("@queue", p.Queue).Bind("@succeeded", Ms(p.Succeeded)).Bind("@dead", Ms(p.Dead)).Bind("@cancelled", Ms(p.Cancelled)).ExecuteNonQuery(), ct)
            .ConfigureAwait(false);

    private static long? Ms(TimeSpan? t) => t is { } v ? (long)v.TotalMilliseconds : null;

    public Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct) => db.ReadAsync<IReadOnlyList<QueueRetention>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT queue, succeeded_ms, dead_ms, cancelled_ms FROM queue_retention ORDER BY queue";
        using var r = cmd.ExecuteReader();
        var list = new List<QueueRetention>();
        static TimeSpan? Span(long? ms) => ms is { } v ? TimeSpan.FromMilliseconds(v) : null;
        while (r.Read()) list.Add(new QueueRetention(r.GetString(0), Span(r.GetInt64OrNull(1)), Span(r.GetInt64OrNull(2)), Span(r.GetInt64OrNull(3))));
        return list;
    }, ct);
}
