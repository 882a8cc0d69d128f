using Gantry.Jobs;
using NpgsqlTypes;

namespace Gantry.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    // SKIP LOCKED: two schedulers (or a scheduler and a cancel) never wait for each other's rows.
    private static readonly string PromoteSql = $"""
        UPDATE jobs SET state = '{JobState.Queued.ToText()}'
        WHERE id = ANY(ARRAY(
            SELECT id FROM jobs WHERE {JobStateMachine.SqlFrom(JobTransition.Promote)} AND run_at <= @now
            ORDER BY run_at LIMIT @limit FOR UPDATE SKIP LOCKED))
          AND {JobStateMachine.SqlFrom(JobTransition.Promote)}
        """;

    public async Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct)
    {
        var promoted = await TransactAsync(async c =>
        {
            var n = await Command(c, PromoteSql).Bind("@now", Now()).Bind("@limit", p.Limit).RunAsync(ct).ConfigureAwait(false);
            if (n > 0) await NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return n;
        }, ct).ConfigureAwait(false);
        if (promoted > 0) Signals.JobsAvailable.Set();
        return promoted;
    }

    public Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct) => RunAsync(async c =>
        await Command(c, $"SELECT min(run_at) FROM jobs WHERE {JobStateMachine.SqlFrom(JobTransition.Promote)}").ScalarAsync(ct).ConfigureAwait(false) is DateTime at
            ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
            : (DateTimeOffset?)null, ct);

    public async Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct)
    {
        var rescued = await TransactAsync<IReadOnlyList<RescuedJob>>(async c =>
        {
            var now = Now();
            var expired = new List<(Guid Id, int Attempt, int MaxAttempts, string? Worker, bool CancelRequested)>();
            await using (var cmd = Command(c, $"""
                SELECT id, attempt, max_attempts, worker_id, cancel_requested_at IS NOT NULL FROM jobs
                WHERE {JobStateMachine.SqlFrom(JobTransition.Rescue)} AND lease_until < @now
                ORDER BY lease_until LIMIT @limit FOR UPDATE SKIP LOCKED
                """).Bind("@now", now).Bind("@limit", p.Limit))
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                    expired.Add((r.GetGuid(0), r.GetInt32(1), r.GetInt32(2), r.GetStringOrNull(3), r.GetBoolean(4)));
            }
            var list = new List<RescuedJob>(expired.Count);
            foreach (var job in expired)
            {
                var next = RetryPolicy.AfterLostWorker(job.Attempt, job.MaxAttempts, job.CancelRequested);
                var seq = await Command(c, """
                    UPDATE jobs SET state = @next, lease_until = NULL, finished_at = @finished_at
                    WHERE id = @id AND state = 'running' AND attempt = @attempt
                    RETURNING seq
                    """).Bind("@next", next.ToText()).Bind("@finished_at", next.IsTerminal() ? now : (object?)null, NpgsqlDbType.TimestampTz)
                    .Bind("@id", job.Id).Bind("@attempt", job.Attempt).ScalarAsync(ct).ConfigureAwait(false);
                if (seq is long rescuedSeq && next.IsTerminal()) await StepStoppedAsync(c, rescuedSeq, now, ct).ConfigureAwait(false);
                if (!job.CancelRequested)
                    await InsertErrorAsync(c, job.Id, job.Attempt, now, job.Worker, WorkerLoss.Error(job.Worker, "stopped renewing the lease"), ct).ConfigureAwait(false);
                list.Add(new RescuedJob(job.Id, job.Attempt, job.Worker, next));
            }
            if (list.Any(r => r.NewState == JobState.Queued)) await NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return list;
        }, ct).ConfigureAwait(false);
        if (rescued.Any(r => r.NewState == JobState.Queued)) Signals.JobsAvailable.Set();
        return rescued;
    }

    public Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct) => TransactAsync(async c =>
    {
        var cutoff = _time.GetUtcNow().UtcDateTime - p.Retention;
        // No index on finished_at: it would cost every completion an index write. Ids grow with time
        // (UUIDv7), so walking the id index upward finds old finished jobs first. Their errors go with them (ON DELETE CASCADE).
        // A workflow's steps go together, once all have finished, and their edges with them.
        var deleted = Convert.ToInt32(await Command(c, $"""
            WITH gone AS (
              DELETE FROM jobs WHERE id = ANY(ARRAY(
                SELECT id FROM jobs WHERE state IN ('succeeded', 'dead', 'cancelled') AND finished_at < @cutoff
                  AND {WorkflowSql.CleanableStep}
                ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED))
              RETURNING seq, workflow_id),
            edges AS (
              DELETE FROM job_dependencies WHERE job_seq = ANY(ARRAY(SELECT seq FROM gone WHERE workflow_id IS NOT NULL)))
            SELECT count(*) FROM gone
            """).Bind("@cutoff", cutoff).Bind("@limit", p.Limit).ScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (deleted > 0) await Command(c, WorkflowSql.DeleteEmptyWorkflows).RunAsync(ct).ConfigureAwait(false);
        // Workers that stopped long ago leave the registry with the jobs of their time.
        await Command(c, "DELETE FROM workers WHERE state = 'stopped' AND last_seen_at < @cutoff").Bind("@cutoff", cutoff)
            .RunAsync(ct).ConfigureAwait(false);
        return deleted;
    }, ct);
}
