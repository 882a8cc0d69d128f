using Gantry.Jobs;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The fenced writes of a job's holder: a batch of reports (progress, checkpoints, log lines, usage and the attempt's
/// outcome) in one write transaction, and lease renewals. Each applies only while the job is still the reporter's
/// attempt. A success finds the row this instance claimed by its key (<paramref name="claimedRows"/>); a step's end
/// releases or cancels the rest of its workflow (<paramref name="workflows"/>) and successes are counted per queue
/// (<paramref name="counts"/>) and give their slots back under limits without keys (<paramref name="flowLimits"/>), in the same transaction.
/// </summary>
internal sealed class SqliteReports(SqliteDatabase db, StoreSignals signals, ClaimedRows claimedRows, SqliteWorkflows workflows, SqliteCounts counts,
    SqliteFlowLimits flowLimits) : IStoreReports
{
    private static readonly string FailSql = ReportSql.Fail("seq");
    private static readonly string CancelIfRequestedSql = ReportSql.CancelIfRequested("seq");
    private static readonly string CancelledSql = ReportSql.Cancelled("seq");

    // Says which row it was and whether it is a workflow step: only steps pay for the release of dependents.
    private static readonly string SucceedSql = $"""
        UPDATE jobs SET state = '{JobState.Succeeded.ToText()}', result = @result, finished_at = @now, lease_until = NULL, progress = 100
        WHERE {FenceSql.Report} AND {StateSql.From(JobTransition.Succeed)}
        RETURNING seq, workflow_id IS NOT NULL, queue
        """;

    // The same, finding the row by its key (known from this instance's claim, with whether it is a step) rather than through the id index.
    private static readonly string SucceedByRowSql = $"""
        UPDATE jobs SET state = '{JobState.Succeeded.ToText()}', result = @result, finished_at = @now, lease_until = NULL, progress = 100
        WHERE {FenceSql.Attempt(key: "seq", id: "@seq")} AND {StateSql.From(JobTransition.Succeed)}
        """;

    private static readonly string InsertLogSql = $"""
        INSERT OR REPLACE INTO job_logs (job_seq, attempt, n, at, level, message)
        SELECT seq, @attempt, @n, @at, @level, @message FROM jobs WHERE {FenceSql.Report}
        """;

    private static readonly string InsertUsageSql = $"""
        INSERT OR REPLACE INTO job_usage (job_seq, attempt, worker_id, outcome, cpu_seconds, peak_memory_bytes, exit_code, signal, limit_hit)
        SELECT seq, @attempt, @worker, @outcome, @cpu, @peak, @code, @signal, @limit FROM jobs
        WHERE {FenceSql.Report}
        """;

    private const string InsertErrorSql = """
        INSERT OR REPLACE INTO job_errors (job_seq, attempt, at, worker_id, kind, error_type, message, stack)
        VALUES (@seq, @attempt, @now, @worker, @kind, @type, @message, @stack)
        """;

    public async Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
    {
        if (reports.Count == 0) return [];
        bool wakeClaimers = false, wakeScheduler = false;
        var applied = await db.WriteAsync(_ =>
        {
            var now = db.NowMs();
            var results = new bool[reports.Count];
            var succeededSteps = new List<long>();
            var succeeded = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < reports.Count; i++)
            {
                var report = reports[i];
                switch (report)
                {
                    case JobProgressReport p:
                        results[i] = Fenced(ReportSql.Progress, p).Bind("@progress", Math.Clamp(p.Percent, 0, 100)).Bind("@message", p.Message)
                            .ExecuteNonQuery() == 1;
                        break;
                    case JobCheckpointReport cp:
                        results[i] = Fenced(ReportSql.Checkpoint, cp).Bind("@data", cp.Data).Bind("@now", now).ExecuteNonQuery() == 1;
                        break;
                    case JobLogReport l:
                        var insertLog = db.Raw(InsertLogSql);
                        foreach (var line in l.Lines)
                            results[i] = insertLog.Bind("@id", l.JobId.ToString()).Bind("@attempt", l.Attempt).Bind("@worker", l.WorkerId)
                                .Bind("@n", line.Number).Bind("@at", line.At.ToUnixTimeMilliseconds()).Bind("@level", line.Level)
                                .Bind("@message", line.Message).Execute() == 1;
                        break;
                    case JobUsageReport u:
                        results[i] = Fenced(InsertUsageSql, u).Bind("@outcome", u.Usage.Outcome).Bind("@cpu", u.Usage.CpuSeconds)
                            .Bind("@peak", u.Usage.PeakMemoryBytes).Bind("@code", u.Usage.ExitCode).Bind("@signal", u.Usage.Signal)
                            .Bind("@limit", u.Usage.Limit).ExecuteNonQuery() == 1;
                        break;
                    case JobSucceededReport s:
                        // The hot path: a statement driven directly, not through ADO.NET. A plain job costs
                        // one update; a workflow step's dependents are released at the end of this transaction.
                        if (claimedRows.Forget(s.JobId, out var row))
                        {
                            results[i] = db.Raw(SucceedByRowSql).Bind("@seq", row.Seq).Bind("@attempt", s.Attempt).Bind("@worker", s.WorkerId)
                                .Bind("@result", s.Result).Bind("@now", now).Execute() == 1;
                            if (results[i] && row.IsStep) succeededSteps.Add(row.Seq);
                            if (results[i]) Tally(succeeded, row.Queue);
                        }
                        else if (SucceedById(s, now) is { } step)
                        {
                            results[i] = true;
                            if (step.IsStep) succeededSteps.Add(step.Seq);
                            Tally(succeeded, step.Queue);
                        }
                        break;
                    case JobFailedReport f:
                        claimedRows.Forget(f.JobId);
                        var transition = f.Next == JobState.Dead ? JobTransition.FailForGood : JobTransition.FailAndRetry;
                        JobStateMachine.Apply(JobState.Running, transition, f.Next);
                        var seq = Fenced(CancelIfRequestedSql, f).Bind("@now", now).ExecuteScalar();
                        var cancelled = seq is long;
                        var next = JobState.Cancelled;
                        if (!cancelled)
                        {
                            using var failed = Fenced(FailSql, f).Bind("@next", f.Next.ToText())
                                .Bind("@run_at", JobStart.RetryAt(f, DateTimeOffset.FromUnixTimeMilliseconds(now))?.ToUnixTimeMilliseconds())
                                .Bind("@finished_at", f.Next.IsTerminal() ? now : null).Bind("@now", now)
                                .ExecuteReader();
                            // The store's word on what follows (dead once attempts are used up), not the report's.
                            if (failed.Read()) (seq, next) = (failed.GetInt64(0), JobStates.Parse(failed.GetString(1)));
                        }
                        if (seq is long jobSeq)
                        {
                            InsertError(jobSeq, f.Attempt, now, f.WorkerId, f.Error);
                            if (next is JobState.Cancelled or JobState.Dead) workflows.StepStopped(jobSeq, now);
                            results[i] = true;
                            wakeClaimers |= next == JobState.Queued;
                            wakeScheduler |= next == JobState.Scheduled;
                        }
                        break;
                    case JobCancelledReport c:
                        claimedRows.Forget(c.JobId);
                        if (Fenced(CancelledSql, c).Bind("@now", now).ExecuteScalar() is long cancelledSeq)
                        {
                            results[i] = true;
                            workflows.StepStopped(cancelledSeq, now);
                        }
                        break;
                    case JobRequeuedReport q:
                        claimedRows.Forget(q.JobId);
                        if (Fenced(CancelIfRequestedSql, q).Bind("@now", now).ExecuteScalar() is long requeuedSeq)
                        {
                            results[i] = true;
                            workflows.StepStopped(requeuedSeq, now);
                            break;
                        }
                        // The attempt did not count: the next claim reuses its number, so its lines and usage go.
                        db.Prepared("DELETE FROM job_logs WHERE job_seq = (SELECT seq FROM jobs WHERE id = @id) AND attempt = @attempt")
                            .Bind("@id", q.JobId.ToString()).Bind("@attempt", q.Attempt).ExecuteNonQuery();
                        db.Prepared("DELETE FROM job_usage WHERE job_seq = (SELECT seq FROM jobs WHERE id = @id) AND attempt = @attempt")
                            .Bind("@id", q.JobId.ToString()).Bind("@attempt", q.Attempt).ExecuteNonQuery();
                        results[i] = Fenced(ReportSql.Requeue, q).ExecuteNonQuery() == 1;
                        wakeClaimers |= results[i];
                        break;
                    default:
                        throw new ArgumentException($"unknown report {report.GetType().Name}", nameof(reports));
                }
            }
            // Dependents are released in the transaction that records their dependencies' success.
            workflows.ReleaseDependents(succeededSteps);
            counts.CountSucceeded(succeeded, now);
            flowLimits.Succeeded(succeeded);
            return results;
        }, ct).ConfigureAwait(false);
        if (wakeClaimers) signals.JobsAvailable.Set();
        if (wakeScheduler) signals.ScheduleChanged.Set();
        if (JobReport.AnyEnded(reports, applied)) signals.JobsEnded.Set();
        return applied;
    }

    private static void Tally(Dictionary<string, int> counts, string queue) =>
        counts[queue] = counts.GetValueOrDefault(queue) + 1;

    /// <summary>Applies a success found by job id (a report for a job this instance did not claim); null when fenced out.</summary>
    private (long Seq, bool IsStep, string Queue)? SucceedById(JobSucceededReport s, long now)
    {
        var succeed = db.Raw(SucceedSql).Bind("@id", s.JobId.ToString()).Bind("@attempt", s.Attempt).Bind("@worker", s.WorkerId)
            .Bind("@result", s.Result).Bind("@now", now);
        try
        {
            return succeed.Step() ? (succeed.GetInt64(0), succeed.GetInt64(1) == 1, succeed.GetString(2)) : null;
        }
        finally
        {
            // RETURNING rows are computed before the first one is handed out: the update is complete.
            succeed.Reset();
        }
    }

    private Microsoft.Data.Sqlite.SqliteCommand Fenced(string sql, JobReport report) =>
        db.Prepared(sql).Bind("@id", report.JobId.ToString()).Bind("@attempt", report.Attempt).Bind("@worker", report.WorkerId);

    /// <summary>Records an attempt's error on the job's row (inside the caller's write transaction).</summary>
    public void InsertError(long jobSeq, int attempt, long now, string? workerId, JobError error) =>
        db.Prepared(InsertErrorSql).Bind("@seq", jobSeq).Bind("@attempt", attempt).Bind("@now", now).Bind("@worker", workerId)
            .Bind("@kind", error.Kind).Bind("@type", error.Type).Bind("@message", error.Message).Bind("@stack", error.StackTrace)
            .ExecuteNonQuery();

    private static readonly string RenewLeaseSql = $"UPDATE jobs SET lease_until = @lease_until WHERE {FenceSql.Report}";

    /// <summary>Renews the leases of <paramref name="jobs"/> held by <paramref name="workerId"/> until
    /// <paramref name="leaseUntil"/> (Unix ms), inside the caller's write transaction; returns those it no longer holds.</summary>
    public List<JobLease> RenewLeases(IReadOnlyList<JobLease> jobs, string workerId, long leaseUntil)
    {
        var lost = new List<JobLease>();
        var renew = db.Raw(RenewLeaseSql);
        foreach (var job in jobs)
        {
            var renewed = renew.Bind("@lease_until", leaseUntil).Bind("@id", job.JobId.ToString())
                .Bind("@attempt", job.Attempt).Bind("@worker", workerId).Execute() == 1;
            if (!renewed) lost.Add(job);
        }
        return lost;
    }
}
