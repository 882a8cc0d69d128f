using Gantry.Jobs;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// Operators' control of jobs, workers and queues: cancel and retry a job (a cancelled workflow step stops the rest of
/// its workflow through <paramref name="workflows"/>), commands to a worker, pause and resume of a queue (the claim's
/// statement reads the pauses).
/// </summary>
internal sealed class SqliteControl(SqliteDatabase db, StoreSignals signals, SqliteWorkflows workflows) : IStoreControl
{
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => JobCancelAsync(id, now: false, ct);

    public async Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct)
    {
        var kind = (now ? WorkerCommandKind.CancelJobNow : WorkerCommandKind.CancelJob).ToString();
        var result = await db.WriteAsync(c =>
        {
            var now = db.NowMs();
            var (state, workerId) = StateOf(id);
            JobStateMachine.Apply(state, JobTransition.Cancel, JobState.Cancelled);
            if (state == JobState.Running)
            {
                // The worker stops the handler and confirms; if the worker is gone, the rescuer ends it cancelled.
                db.Prepared("UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, @now) WHERE id = @id")
                    .Bind("@now", now).Bind("@id", id.ToString()).ExecuteNonQuery();
                db.Prepared("INSERT INTO worker_commands (worker_id, kind, job_id, created_at) VALUES (@worker, @kind, @id, @now)")
                    .Bind("@worker", workerId).Bind("@kind", kind).Bind("@id", id.ToString()).Bind("@now", now)
                    .ExecuteNonQuery();
                return new JobCancelResult(id, JobCancelOutcome.Requested);
            }
            if (db.Prepared($"""
                UPDATE jobs SET state = '{JobState.Cancelled.ToText()}', finished_at = @now, cancel_requested_at = @now
                WHERE id = @id AND {StateSql.From(JobTransition.Cancel)}
                RETURNING seq
                """).Bind("@now", now).Bind("@id", id.ToString()).ExecuteScalar() is long seq)
                workflows.StepStopped(seq, now);
            return new JobCancelResult(id, JobCancelOutcome.Cancelled);
        }, ct).ConfigureAwait(false);
        if (result.Outcome == JobCancelOutcome.Requested) signals.CommandsAvailable.Set();
        else signals.JobsEnded.Set();
        return result;
    }

    public async Task JobRetryAsync(Guid id, CancellationToken ct)
    {
        await db.WriteAsync(c =>
        {
            var (state, _) = StateOf(id);
            JobStateMachine.Apply(state, JobTransition.Retry, JobState.Queued);
            db.Prepared(WorkflowSql.RecountDependencies).Bind("@id", id.ToString()).ExecuteNonQuery();
            // Attempt numbers stay monotonic (they fence reports); the job gets its budget of attempts again.
            db.Prepared($"""
                UPDATE jobs SET state = {WorkflowSql.RetryState}, max_attempts = attempt + attempt_budget, run_at = NULL,
                    finished_at = NULL, lease_until = NULL, cancel_requested_at = NULL, result = NULL, progress = NULL, progress_message = NULL
                WHERE id = @id AND {StateSql.From(JobTransition.Retry)}
                """).Bind("@id", id.ToString()).ExecuteNonQuery();
            return true;
        }, ct).ConfigureAwait(false);
        signals.JobsAvailable.Set();
    }

    public async Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct)
    {
        await db.WriteAsync(_ =>
        {
            var running = db.Prepared("SELECT count(*) FROM workers WHERE id = @id AND state <> 'stopped' AND state <> 'dead'").Bind("@id", workerId).ExecuteScalar();
            if (Convert.ToInt64(running) == 0) throw new WorkerNotFoundException(workerId);
            db.Prepared("INSERT INTO worker_commands (worker_id, kind, job_id, created_at) VALUES (@worker, @kind, NULL, @now)")
                .Bind("@worker", workerId).Bind("@kind", kind.ToString()).Bind("@now", db.NowMs()).ExecuteNonQuery();
            if (WorkerStates.After(kind) is { } state) db.Prepared(WorkerStates.CommandSql).Bind("@state", state).Bind("@id", workerId).ExecuteNonQuery();
            return true;
        }, ct).ConfigureAwait(false);
        signals.CommandsAvailable.Set();
    }

    public async Task QueuePauseAsync(string queue, CancellationToken ct) =>
        await db.WriteAsync(_ => db.Prepared("INSERT INTO queue_pauses (queue, paused_at) VALUES (@queue, @now) ON CONFLICT (queue) DO NOTHING")
            .Bind("@queue", queue).Bind("@now", db.NowMs()).ExecuteNonQuery(), ct).ConfigureAwait(false);

    public async Task QueueResumeAsync(string queue, CancellationToken ct)
    {
        await db.WriteAsync(_ => db.Prepared("DELETE FROM queue_pauses WHERE queue = @queue").Bind("@queue", queue).ExecuteNonQuery(), ct).ConfigureAwait(false);
        signals.JobsAvailable.Set();
    }

    /// <summary>The job's state and holder, inside the current write transaction.</summary>
    private (JobState State, string? WorkerId) StateOf(Guid id)
    {
        using var r = db.Prepared("SELECT state, worker_id FROM jobs WHERE id = @id").Bind("@id", id.ToString()).ExecuteReader();
        if (!r.Read()) throw new JobNotFoundException(id.ToString());
        return (JobStates.Parse(r.GetString(0)), r.GetStringOrNull(1));
    }
}
