using Gantry.Jobs;
using Npgsql;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>What operators do to jobs, queues and workers: cancel, retry, pause and resume a queue, send a worker a command.</summary>
internal sealed class PostgresControl(PostgresDatabase db, PostgresWorkflows workflows) : IStoreControl
{
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => JobCancelAsync(id, now: false, ct);

    public async Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct)
    {
        var kind = (now ? WorkerCommandKind.CancelJobNow : WorkerCommandKind.CancelJob).ToString();
        var result = await db.TransactAsync(async c =>
        {
            var now = db.Now();
            await LockReadyAsync(c, "id = @id", cmd => cmd.Bind("@id", id), ct).ConfigureAwait(false);
            var (state, workerId) = await LockStateAsync(c, id, ct).ConfigureAwait(false);
            JobStateMachine.Apply(state, JobTransition.Cancel, JobState.Cancelled);
            if (state == JobState.Running)
            {
                // The worker stops the handler and confirms; if the worker is gone, the rescuer ends it cancelled.
                await Command(c, "UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, @now) WHERE id = @id")
                    .Bind("@now", now).Bind("@id", id).RunAsync(ct).ConfigureAwait(false);
                await Command(c, "INSERT INTO worker_commands (worker_id, kind, job_id, created_at) VALUES (@worker, @kind, @id, @now)")
                    .Bind("@worker", workerId).Bind("@kind", kind).Bind("@id", id).Bind("@now", now)
                    .RunAsync(ct).ConfigureAwait(false);
                await db.NotifyAsync(c, PostgresNotifications.Commands, ct).ConfigureAwait(false);
                return new JobCancelResult(id, JobCancelOutcome.Requested);
            }
            if (await Command(c, $"""
                UPDATE jobs SET state = '{JobState.Cancelled.ToText()}', finished_at = @now, cancel_requested_at = @now
                WHERE id = @id AND {StateSql.From(JobTransition.Cancel)}
                RETURNING seq
                """).Bind("@now", now).Bind("@id", id).ScalarAsync(ct).ConfigureAwait(false) is long seq)
                await workflows.StepStoppedAsync(c, seq, now, ct).ConfigureAwait(false);
            return new JobCancelResult(id, JobCancelOutcome.Cancelled);
        }, ct).ConfigureAwait(false);
        if (result.Outcome == JobCancelOutcome.Requested) db.Signals.CommandsAvailable.Set();
        else db.JobsEnded();
        return result;
    }

    /// <summary>
    /// Locks the ready rows of the queued jobs matching <paramref name="jobs"/> (a condition on jobs), before anything
    /// takes those jobs out of queued: a claim locks a ready row, then its job; a cancel that locked the job first and
    /// then (through the trigger) its ready row could deadlock with it. Waits for a claim holding one; a row the
    /// claim deleted meanwhile is passed over, and its job is found running.
    /// </summary>
    internal static async Task LockReadyAsync(NpgsqlConnection c, string jobs, Func<NpgsqlCommand, NpgsqlCommand> bind, CancellationToken ct)
    {
        await using var cmd = bind(Command(c, $"""
            SELECT 1 FROM job_ready WHERE (queue, priority, seq) IN (
              SELECT queue, priority, seq FROM jobs WHERE {jobs} AND state = '{JobState.Queued.ToText()}')
            FOR UPDATE
            """));
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct)
    {
        await db.TransactAsync(async c =>
        {
            var running = await Command(c, "SELECT count(*) FROM workers WHERE id = @id AND state NOT IN ('stopped', 'dead')").Bind("@id", workerId)
                .ScalarAsync(ct).ConfigureAwait(false);
            if (Convert.ToInt64(running, System.Globalization.CultureInfo.InvariantCulture) == 0) throw new WorkerNotFoundException(workerId);
            await Command(c, "INSERT INTO worker_commands (worker_id, kind, job_id, created_at) VALUES (@worker, @kind, NULL, @now)")
                .Bind("@worker", workerId).Bind("@kind", kind.ToString()).Bind("@now", db.Now()).RunAsync(ct).ConfigureAwait(false);
            if (WorkerStates.After(kind) is { } state)
                await Command(c, WorkerStates.CommandSql).Bind("@state", state).Bind("@id", workerId).RunAsync(ct).ConfigureAwait(false);
            await db.NotifyAsync(c, PostgresNotifications.Commands, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
        db.Signals.CommandsAvailable.Set();
    }

    public async Task QueuePauseAsync(string queue, CancellationToken ct) =>
        await db.TransactAsync(async c => await Command(c, "INSERT INTO queue_pauses (queue, paused_at) VALUES (@queue, @now) ON CONFLICT (queue) DO NOTHING")
            .Bind("@queue", queue).Bind("@now", db.Now()).RunAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    public async Task QueueResumeAsync(string queue, CancellationToken ct)
    {
        await db.TransactAsync(async c =>
        {
            var n = await Command(c, "DELETE FROM queue_pauses WHERE queue = @queue").Bind("@queue", queue).RunAsync(ct).ConfigureAwait(false);
            await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return n;
        }, ct).ConfigureAwait(false);
        db.Signals.JobsAvailable.Set();
    }

    public async Task JobRetryAsync(Guid id, CancellationToken ct)
    {
        await db.TransactAsync(async c =>
        {
            var (state, _) = await LockStateAsync(c, id, ct).ConfigureAwait(false);
            JobStateMachine.Apply(state, JobTransition.Retry, JobState.Queued);
            // A step's dependencies are locked first: a success still being committed is waited for, and
            // then counted (its release skipped this step while it was cancelled).
            await Command(c, $"""
                SELECT 1 FROM job_dependencies AS d JOIN jobs AS p ON p.seq = d.depends_on_seq AND p.{WorkflowSql.IsStep}
                WHERE d.job_seq = (SELECT seq FROM jobs WHERE id = @id AND {WorkflowSql.IsStep})
                FOR SHARE OF p
                """).Bind("@id", id).RunAsync(ct).ConfigureAwait(false);
            await Command(c, WorkflowSql.RecountDependencies).Bind("@id", id).RunAsync(ct).ConfigureAwait(false);
            // Attempt numbers stay monotonic (they fence reports); the job gets its budget of attempts again.
            await Command(c, $"""
                UPDATE jobs SET state = {WorkflowSql.RetryState}, max_attempts = attempt + attempt_budget, run_at = NULL,
                    finished_at = NULL, lease_until = NULL, cancel_requested_at = NULL, result = NULL, progress = NULL, progress_message = NULL
                WHERE id = @id AND {StateSql.From(JobTransition.Retry)}
                """).Bind("@id", id).RunAsync(ct).ConfigureAwait(false);
            await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
        db.Signals.JobsAvailable.Set();
    }

    /// <summary>The job's state and holder, its row locked until the transaction ends so the decision taken on it holds.</summary>
    private static async Task<(JobState State, string? WorkerId)> LockStateAsync(NpgsqlConnection c, Guid id, CancellationToken ct)
    {
        await using var cmd = Command(c, "SELECT state, worker_id FROM jobs WHERE id = @id FOR UPDATE").Bind("@id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) throw new JobNotFoundException(id.ToString());
        return (JobStates.Parse(r.GetString(0)), r.GetStringOrNull(1));
    }
}
