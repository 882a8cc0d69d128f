using Gantry.Jobs;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>The fenced writes of a worker that holds a job: outcomes, progress, checkpoints, usage and log lines; a workflow step's end goes on to <paramref name="workflows"/>.</summary>
internal sealed class PostgresReports(PostgresDatabase db, PostgresWorkflows workflows) : IStoreReports
{
    private static readonly string FailSql = ReportSql.Fail("seq");
    private static readonly string CancelIfRequestedSql = ReportSql.CancelIfRequested("seq");
    private static readonly string CancelledSql = ReportSql.Cancelled("seq");

    // Completions are the hot path: a run of them is one statement, each row fenced, found through
    // the id index (see PostgresArrayUpdate). Each row says whether the job is a workflow step: only
    // steps pay for the release of their dependents.
    // Successes of jobs holding a flow-control slot give it back here: a marked job (a queue limited per key) by taking
    // off the mark, a job counted in its queue's running total by one delta per queue and epoch for the batch (the
    // triggers jobs_slot_freed and jobs_held_freed, one call per row, cover every other way out of running; see
    // PostgresSchema migrations 20 and 22).
    private static readonly string SucceedManySql = $"""
        WITH done AS (
          UPDATE jobs AS j SET state = '{JobState.Succeeded.ToText()}', result = u.result, finished_at = $5, lease_until = NULL, progress = 100, slot = NULL
          FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS u(id, attempt, worker_id, result)
          WHERE {FenceSql.Attempt("u.id", "u.attempt", "u.worker_id", row: "j.")} AND j.{StateSql.From(JobTransition.Succeed)}
          RETURNING j.id, CASE WHEN j.workflow_id IS NULL THEN NULL ELSE j.seq END AS step_seq, j.queue, j.held_epoch),
        counted AS (
          {PostgresCounts.CountSucceededSql("done", "$5")}),
        freed AS (
          INSERT INTO queue_held_deltas (queue, epoch, n) SELECT queue, held_epoch, -count(*) FROM done WHERE held_epoch IS NOT NULL GROUP BY 1, 2)
        SELECT id, step_seq FROM done
        """;

    private const string InsertErrorSql = """
        INSERT INTO job_errors (job_id, attempt, at, worker_id, kind, error_type, message, stack)
        VALUES (@job, @attempt, @now, @worker, @kind, @type, @message, @stack)
        ON CONFLICT (job_id, attempt) DO UPDATE SET at = excluded.at, worker_id = excluded.worker_id, kind = excluded.kind,
          error_type = excluded.error_type, message = excluded.message, stack = excluded.stack
        """;

    private static readonly string InsertUsageSql = $"""
        INSERT INTO job_usage (job_id, attempt, worker_id, outcome, cpu_seconds, peak_memory_bytes, exit_code, signal, limit_hit)
        SELECT id, @attempt, @worker, @outcome, @cpu, @peak, @code, @signal, @limit FROM jobs
        WHERE {FenceSql.Report}
        ON CONFLICT (job_id, attempt) DO UPDATE SET worker_id = excluded.worker_id, outcome = excluded.outcome, cpu_seconds = excluded.cpu_seconds,
          peak_memory_bytes = excluded.peak_memory_bytes, exit_code = excluded.exit_code, signal = excluded.signal, limit_hit = excluded.limit_hit
        """;

    // Lines of an attempt the worker still holds; a line sent twice (a retried batch) replaces itself.
    private static readonly string InsertLogsSql = $"""
        INSERT INTO job_logs (job_id, attempt, n, at, level, message)
        SELECT @id, @attempt, l.n, l.at, l.level, l.message FROM unnest(@ns, @ats, @levels, @messages) AS l(n, at, level, message)
        WHERE EXISTS (SELECT 1 FROM jobs WHERE {FenceSql.Report})
        ON CONFLICT (job_id, attempt, n) DO UPDATE SET at = excluded.at, level = excluded.level, message = excluded.message
        """;

    public async Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
    {
        if (reports.Count == 0) return [];
        foreach (var report in reports)
        {
            if (report is JobFailedReport f)
                JobStateMachine.Apply(JobState.Running, f.Next == JobState.Dead ? JobTransition.FailForGood : JobTransition.FailAndRetry, f.Next);
            else if (report is not (JobProgressReport or JobSucceededReport or JobCancelledReport or JobRequeuedReport or JobLogReport or JobCheckpointReport or JobUsageReport))
                throw new ArgumentException($"unknown report {report.GetType().Name}", nameof(reports));
        }
        bool wakeClaimers = false, wakeScheduler = false;
        var applied = await db.TransactAsync(async c =>
        {
            wakeClaimers = wakeScheduler = false;
            var now = db.Now();
            var results = new bool[reports.Count];
            var run = new List<int>(reports.Count); // consecutive successes, applied together
            var succeededSteps = new List<long>();
            for (var i = 0; i < reports.Count; i++)
            {
                if (reports[i] is JobSucceededReport)
                {
                    run.Add(i);
                    continue;
                }
                await SucceedManyAsync(c, reports, run, results, succeededSteps, now, ct).ConfigureAwait(false);
                switch (reports[i])
                {
                    case JobProgressReport p:
                        results[i] = await Fenced(c, ReportSql.Progress, p).Bind("@progress", Math.Clamp(p.Percent, 0, 100))
                            .Bind("@message", p.Message, NpgsqlDbType.Text).RunAsync(ct).ConfigureAwait(false) == 1;
                        break;
                    case JobFailedReport f:
                        var seq = await Fenced(c, CancelIfRequestedSql, f).Bind("@now", now).ScalarAsync(ct).ConfigureAwait(false);
                        var next = JobState.Cancelled;
                        if (seq is not long)
                        {
                            await using var fail = Fenced(c, FailSql, f).Bind("@next", f.Next.ToText(), NpgsqlDbType.Text)
                                .Bind("@run_at", JobStart.RetryAt(f, new DateTimeOffset(now)).Utc(), NpgsqlDbType.TimestampTz)
                                .Bind("@finished_at", f.Next.IsTerminal() ? now : (object?)null, NpgsqlDbType.TimestampTz)
                                .Bind("@now", now, NpgsqlDbType.TimestampTz);
                            await using var failed = await fail.ExecuteReaderAsync(ct).ConfigureAwait(false);
                            // The store's word on what follows (dead once attempts are used up), not the report's.
                            if (await failed.ReadAsync(ct).ConfigureAwait(false)) (seq, next) = (failed.GetInt64(0), JobStates.Parse(failed.GetString(1)));
                        }
                        if (seq is long failedSeq)
                        {
                            await InsertErrorAsync(c, f.JobId, f.Attempt, now, f.WorkerId, f.Error, ct).ConfigureAwait(false);
                            if (next is JobState.Cancelled or JobState.Dead) await workflows.StepStoppedAsync(c, failedSeq, now, ct).ConfigureAwait(false);
                            results[i] = true;
                            wakeClaimers |= next == JobState.Queued;
                            wakeScheduler |= next == JobState.Scheduled;
                        }
                        break;
                    case JobUsageReport u:
                        results[i] = await Fenced(c, InsertUsageSql, u).Bind("@outcome", u.Usage.Outcome)
                            .Bind("@cpu", u.Usage.CpuSeconds, NpgsqlDbType.Double).Bind("@peak", u.Usage.PeakMemoryBytes, NpgsqlDbType.Bigint)
                            .Bind("@code", u.Usage.ExitCode, NpgsqlDbType.Integer).Bind("@signal", u.Usage.Signal, NpgsqlDbType.Integer)
                            .Bind("@limit", u.Usage.Limit, NpgsqlDbType.Text).RunAsync(ct).ConfigureAwait(false) == 1;
                        break;
                    case JobCheckpointReport cp:
                        results[i] = await Fenced(c, ReportSql.Checkpoint, cp).Bind("@data", cp.Data).Bind("@now", now)
                            .RunAsync(ct).ConfigureAwait(false) == 1;
                        break;
                    case JobLogReport l:
                        await using (var insert = Command(c, InsertLogsSql))
                        {
                            results[i] = await insert.Bind("@id", l.JobId).Bind("@attempt", l.Attempt).Bind("@worker", l.WorkerId)
                                .Bind("@ns", l.Lines.Select(x => x.Number).ToArray())
                                .Bind("@ats", l.Lines.Select(x => x.At.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                                .Bind("@levels", l.Lines.Select(x => x.Level).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                                .Bind("@messages", l.Lines.Select(x => x.Message).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                                .RunAsync(ct).ConfigureAwait(false) > 0;
                        }
                        break;
                    case JobCancelledReport x:
                        if (await Fenced(c, CancelledSql, x).Bind("@now", now).ScalarAsync(ct).ConfigureAwait(false) is long cancelledSeq)
                        {
                            results[i] = true;
                            await workflows.StepStoppedAsync(c, cancelledSeq, now, ct).ConfigureAwait(false);
                        }
                        break;
                    case JobRequeuedReport q:
                        if (await Fenced(c, CancelIfRequestedSql, q).Bind("@now", now).ScalarAsync(ct).ConfigureAwait(false) is long requeuedSeq)
                        {
                            results[i] = true;
                            await workflows.StepStoppedAsync(c, requeuedSeq, now, ct).ConfigureAwait(false);
                            break;
                        }
                        // The attempt did not count: the next claim reuses its number, so its lines and usage go.
                        await Command(c, "DELETE FROM job_logs WHERE job_id = @id AND attempt = @attempt; DELETE FROM job_usage WHERE job_id = @id AND attempt = @attempt")
                            .Bind("@id", q.JobId).Bind("@attempt", q.Attempt).RunAsync(ct).ConfigureAwait(false);
                        results[i] = await Fenced(c, ReportSql.Requeue, q).RunAsync(ct).ConfigureAwait(false) == 1;
                        wakeClaimers |= results[i];
                        break;
                }
            }
            await SucceedManyAsync(c, reports, run, results, succeededSteps, now, ct).ConfigureAwait(false);
            // Dependents are released in the transaction that records their dependencies' success.
            var released = await workflows.ReleaseDependentsAsync(c, succeededSteps, ct).ConfigureAwait(false);
            if (wakeClaimers) await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            if (wakeScheduler) await db.NotifyAsync(c, PostgresNotifications.Schedule, ct).ConfigureAwait(false);
            wakeClaimers |= released;
            return results;
        }, ct).ConfigureAwait(false);
        if (wakeClaimers) db.Signals.JobsAvailable.Set();
        if (wakeScheduler) db.Signals.ScheduleChanged.Set();
        if (JobReport.AnyEnded(reports, applied)) db.JobsEnded();
        return applied;
    }

    /// <summary>Applies the successes at <paramref name="run"/> in one round trip and empties it; adds the row keys of workflow steps among them to <paramref name="steps"/>.</summary>
    private static async Task SucceedManyAsync(NpgsqlConnection c, IReadOnlyList<JobReport> reports, List<int> run, bool[] results, List<long> steps,
        DateTime now, CancellationToken ct)
    {
        if (run.Count == 0) return;
        // In id order, as the rescuer locks them: two transactions on the same rows lock them in one order.
        var ids = new Guid[run.Count];
        var rows = new JobSucceededReport[run.Count];
        for (var i = 0; i < rows.Length; i++) (rows[i], ids[i]) = ((JobSucceededReport)reports[run[i]], reports[run[i]].JobId);
        Array.Sort(ids, rows);
        for (var i = 1; i < ids.Length; i++)
            if (ids[i] == ids[i - 1])
            {
                await SucceedInPartsAsync(c, reports, run, results, steps, now, ct).ConfigureAwait(false);
                return;
            }
        var attempts = new int[rows.Length];
        var workers = new string[rows.Length];
        var values = new string?[rows.Length];
        for (var i = 0; i < rows.Length; i++) (attempts[i], workers[i], values[i]) = (rows[i].Attempt, rows[i].WorkerId, rows[i].Result);
        // Which were applied: the ids the statement returns, found in the sorted ids (no set or list made per batch).
        var applied = new bool[ids.Length];
        await PostgresArrayUpdate.EachRowAsync(c, SucceedManySql,
        [
            new NpgsqlParameter { Value = ids },
            new NpgsqlParameter { Value = attempts },
            new NpgsqlParameter { Value = workers },
            new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
            new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        ], r =>
        {
            if (Array.BinarySearch(ids, r.GetGuid(0)) is var at and >= 0) applied[at] = true;
            if (r.GetInt64OrNull(1) is { } seq) steps.Add(seq);
        }, ct).ConfigureAwait(false);
        foreach (var k in run) results[k] = Array.BinarySearch(ids, reports[k].JobId) is var at and >= 0 && applied[at];
        run.Clear();
    }

    /// <summary>A run that holds the same job twice would match its row once: applied in parts, in order, each ending
    /// before a job's second success (rare: found once the run is sorted, so no set is kept per report).</summary>
    private static async Task SucceedInPartsAsync(NpgsqlConnection c, IReadOnlyList<JobReport> reports, List<int> run, bool[] results, List<long> steps,
        DateTime now, CancellationToken ct)
    {
        var part = new List<int>();
        var inPart = new HashSet<Guid>();
        foreach (var k in run)
        {
            if (!inPart.Add(reports[k].JobId))
            {
                await SucceedManyAsync(c, reports, part, results, steps, now, ct).ConfigureAwait(false);
                inPart.Clear();
                inPart.Add(reports[k].JobId);
            }
            part.Add(k);
        }
        await SucceedManyAsync(c, reports, part, results, steps, now, ct).ConfigureAwait(false);
        run.Clear();
    }

    private static NpgsqlCommand Fenced(NpgsqlConnection c, string sql, JobReport report) =>
        Command(c, sql).Bind("@id", report.JobId).Bind("@attempt", report.Attempt).Bind("@worker", report.WorkerId);

    internal static async Task InsertErrorAsync(NpgsqlConnection c, Guid jobId, int attempt, DateTime now, string? workerId, JobError error, CancellationToken ct)
    {
        await using var cmd = Command(c, InsertErrorSql).Bind("@job", jobId).Bind("@attempt", attempt).Bind("@now", now)
            .Bind("@worker", workerId, NpgsqlDbType.Text).Bind("@kind", error.Kind).Bind("@type", error.Type, NpgsqlDbType.Text)
            .Bind("@message", error.Message).Bind("@stack", error.StackTrace, NpgsqlDbType.Text);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
