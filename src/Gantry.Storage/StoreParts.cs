using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Workflows;

namespace Gantry.Storage;

// IJobStore is the sum of these parts, one responsibility each; each store implements every part over its own
// database, and RelationalJobStore forwards each member to the store's part.

/// <summary>The parts of a relational store, handed to <see cref="RelationalJobStore"/> by the store that makes them.</summary>
internal sealed record StoreParts(
    IStoreMigrations Migrations,
    IStoreEnqueue Enqueue,
    IStoreClaims Claims,
    IStoreReports Reports,
    IStoreJobQueries JobQueries,
    IStoreCounts Counts,
    IStoreControl Control,
    IStoreFlowLimits FlowLimits,
    IStoreWorkers Workers,
    IStoreWorkflows Workflows,
    IStoreSchedules Schedules,
    IStoreMaintenance Maintenance,
    IStoreLeadership Leadership,
    IStoreAuditLog AuditLog);

/// <summary>The part of <see cref="IJobStore"/> for the schema: creating and upgrading it, and its version.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreMigrations
{
    /// <summary>Creates or upgrades the schema. Idempotent.</summary>
    Task MigrateAsync(CancellationToken ct);

    /// <summary>The version the store's schema is at: the number of the newest migration applied to it (0 before the first).</summary>
    Task<int> SchemaVersionAsync(CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for inserting jobs: batches, idempotency keys and uniqueness windows.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreEnqueue
{
    /// <summary>Enqueues a batch in one transaction, all or none. A job whose idempotency key already
    /// exists in its queue (or earlier in the batch) gives back the existing job.</summary>
    Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for claiming queued jobs under a lease.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreClaims
{
    /// <summary>Atomically claims up to each queue's limit of queued jobs, by priority then age, under a lease.</summary>
    Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for workers' fenced reports: outcomes, checkpoints, progress, logs, usage.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreReports
{
    /// <summary>Applies worker reports in one transaction. Each is fenced: it is applied only while the
    /// job is running with the report's attempt and lease owner. Returns, per report, whether it was applied.</summary>
    Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for reading jobs: one, a page, a count, the oldest matching.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreJobQueries
{
    /// <summary>One job with the errors of its failed attempts; null when unknown.</summary>
    Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct);

    /// <summary>The log lines of every attempt of a job, in order; throws <see cref="JobNotFoundException"/> for an unknown id.</summary>
    Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct);

    /// <summary>Jobs, newest first, filtered; keyset-paginated by <see cref="JobListParams.Before"/>.</summary>
    Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct);

    /// <summary>How many jobs match (a bulk action's preview and progress, <see cref="JobBulk"/>).</summary>
    Task<long> JobCountAsync(JobMatch m, CancellationToken ct);

    /// <summary>The ids of the oldest <paramref name="limit"/> jobs that match, oldest first.</summary>
    Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for queue statistics and backlog.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreCounts
{
    /// <summary>Counts per queue and state, with each queue's pace over the last minute and the age of its oldest queued job.
    /// Its cost follows the number of queues and the queued set, never the jobs retained: the stores keep the counts exact on
    /// every transition (SQLite: queued and running are counted from their indexes).</summary>
    Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct);

    /// <summary>
    /// The queued jobs of each queue that is not paused (queues with none are absent): read through what the
    /// claim reads (SQLite's claim index, PostgreSQL's table of claimable jobs), so its cost follows the backlog,
    /// not the jobs retained. For callers that poll (an autoscaler).
    /// </summary>
    Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for changing jobs, workers and queues on request: cancel, retry, bulk actions, worker commands, pause and resume.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreControl
{
    /// <summary>Cancels a job: a waiting, scheduled or queued job ends at once; a running one is asked to
    /// stop through its worker. Throws <see cref="JobNotFoundException"/> or <see cref="IllegalTransitionException"/>.</summary>
    Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => JobCancelAsync(id, now: false, ct);

    /// <summary>As <see cref="JobCancelAsync(Guid, CancellationToken)"/>; <paramref name="now"/>: a running job's worker
    /// does not wait for the cancel grace period (<see cref="WorkerCommandKind.CancelJobNow"/>). Asking again with
    /// <paramref name="now"/> while a cancellation is under way cuts its grace short.</summary>
    Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct);

    /// <summary>Puts a dead or cancelled job back to queued with a fresh set of attempts.</summary>
    Task JobRetryAsync(Guid id, CancellationToken ct);

    /// <summary>Queues a control command (drain, pause, resume) for a registered worker; throws
    /// <see cref="WorkerNotFoundException"/> for an unknown or stopped one.</summary>
    Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct);

    /// <summary>Pauses a queue: nothing is claimed from it until it is resumed; running jobs go on.</summary>
    Task QueuePauseAsync(string queue, CancellationToken ct);

    /// <summary>Resumes a paused queue.</summary>
    Task QueueResumeAsync(string queue, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for queue limits: setting, clearing and listing them.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreFlowLimits
{
    /// <summary>Sets a queue's flow limits, replacing any it had; they hold for every claim that starts after this returns.
    /// Throws <see cref="QueueNotFoundException"/> for a queue that holds no job and has no limits.</summary>
    Task QueueLimitsSetAsync(string queue, QueueLimits limits, CancellationToken ct) => QueueLimitsSetAsync(queue, limits, anyQueue: false, ct);

    /// <summary>Sets a queue's flow limits, replacing any it had. With <paramref name="anyQueue"/> a queue no job has been
    /// submitted to yet may get them too (limits declared in gantry.json, set before the first job comes); without, it
    /// throws <see cref="QueueNotFoundException"/> for such a queue (a mistyped name).</summary>
    Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct);

    /// <summary>Removes a queue's flow limits. Throws <see cref="QueueNotFoundException"/> for a queue that holds no job and has no limits.</summary>
    Task QueueLimitsClearAsync(string queue, CancellationToken ct);

    /// <summary>Every queue with limits, with its running jobs and its starts within the rate's window.</summary>
    Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct);

    /// <summary>A page of a per-key queue's concurrency keys with jobs queued or running, in key order (the jobs without a
    /// key first), each with its queued jobs, the slots its running jobs hold and whether the limit holds it back now.
    /// Throws <see cref="QueueNotFoundException"/> for an unknown queue, <see cref="QueueNotPerKeyException"/> for one
    /// without a per-key limit or rate per key, <see cref="InvalidInputException"/> for a bad query.</summary>
    Task<QueueKeysPage> QueueKeysListAsync(QueueKeysQuery query, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for the worker registry: registration, heartbeats, commands, dead workers.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreWorkers
{
    /// <summary>Adds or refreshes a worker in the registry.</summary>
    Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct);

    /// <summary>Marks the worker alive, renews the leases of the attempts it holds, says which of them are
    /// no longer its own, and hands over its pending commands.</summary>
    Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct);

    /// <summary>Hands over (and removes) the worker's pending commands, without renewing anything. Cheap enough to poll.</summary>
    Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct);

    /// <summary>Marks the worker stopped.</summary>
    Task WorkerDeregisterAsync(string workerId, CancellationToken ct);

    /// <summary>Every registered worker, most recently seen first.</summary>
    Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct);

    /// <summary>The job types served by registered workers.</summary>
    Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct);

    /// <summary>Marks running workers silent for longer than <see cref="WorkerMarkDeadParams.SilentFor"/> as
    /// <see cref="WorkerStates.Dead"/> and expires the leases of the jobs they hold, so the rescuer takes them back at once.
    /// A dead worker that heartbeats again is running again (and told that its rescued jobs are lost).</summary>
    Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct);

    /// <summary>The running attempts, by worker: what each worker is doing now.</summary>
    Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for workflows: creating, reading, listing and cancelling them.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreWorkflows
{
    /// <summary>Stores a workflow in one transaction, all steps or none: steps without dependencies are queued (or
    /// scheduled) at once, the others wait. Whenever a step succeeds, the same transaction releases the dependents whose
    /// dependencies have now all succeeded; when a step ends dead or cancelled, the same transaction cancels its downstream
    /// (with <see cref="WorkflowOnFailure.Cancel"/>, every unfinished step of the workflow).</summary>
    Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct);

    /// <summary>One workflow with its steps; null when unknown.</summary>
    Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct);

    /// <summary>Workflows, newest first, with their step counts; filtered by derived state; keyset-paginated.</summary>
    Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct);

    /// <summary>Cancels every unfinished step of a workflow: waiting, scheduled and queued ones at once, running ones
    /// through their workers. Throws <see cref="WorkflowNotFoundException"/> for an unknown id.</summary>
    Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for schedules: their definitions, fires and advances.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreSchedules
{
    /// <summary>Creates a schedule, or replaces the definition of the one with its name (keeping its pause and, when its
    /// expression and zone are unchanged, its cursor). Says which it did.</summary>
    Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct);

    /// <summary>One schedule with its last fire; null when unknown.</summary>
    Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct);

    /// <summary>Every schedule, by name.</summary>
    Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct);

    /// <summary>Removes a schedule and its fire records (the jobs it made stay). Throws <see cref="ScheduleNotFoundException"/>.</summary>
    Task ScheduleDeleteAsync(string name, CancellationToken ct);

    /// <summary>Pauses (nothing fires) or resumes a schedule; resuming drops the fires the pause covered. Throws
    /// <see cref="ScheduleNotFoundException"/>.</summary>
    Task SchedulePauseAsync(string name, bool paused, CancellationToken ct);

    /// <summary>Makes one fire: a fire record keyed by (schedule, fire time) and its job, in one transaction, or nothing
    /// when that fire was made before: exactly one job per fire time, whoever fires and however often. A cron fire
    /// also moves the schedule's cursor to its fire time (never back) and fires only while the schedule is not paused.</summary>
    Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct);

    /// <summary>Moves a schedule's cursor forward without firing (never back).</summary>
    Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for upkeep: promotion of due jobs, rescue, retention and cleaning.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreMaintenance
{
    /// <summary>Moves scheduled jobs whose <c>run_at</c> has come to queued.</summary>
    Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct);

    /// <summary>The earliest <c>run_at</c> among scheduled jobs, if any.</summary>
    Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct);

    /// <summary>Takes back running jobs whose lease expired (see <see cref="RetryPolicy.AfterLostWorker"/>).</summary>
    Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct);

    /// <summary>Deletes finished jobs older than their retention: their queue's for their state (<see cref="QueueRetentionSetAsync"/>),
    /// else <see cref="JobCleanParams.Retention"/>. A job holding an idempotency key is kept at least the default retention (a
    /// shorter one would let the key be taken again); a workflow's steps go together, once all have finished. Fire records older
    /// than the default retention go too, except each schedule's latest.</summary>
    Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct);

    /// <summary>
    /// The store's own housekeeping, which the maintenance leader runs every second while the store is busy: on
    /// PostgreSQL, vacuuming the table of claimable jobs once claims have left enough dead rows in it (a claim walks
    /// them until then). Says, roughly, what it cleared and what it left for a later round.
    /// </summary>
    Task<UpkeepResult> UpkeepAsync(CancellationToken ct);

    /// <summary>Sets a queue's per-state retention (all null: the defaults again).</summary>
    Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct);

    /// <summary>Every queue with a retention of its own.</summary>
    Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for leader election.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreLeadership
{
    /// <summary>Makes <see cref="LeaderElectParams.HolderId"/> the leader of <see cref="LeaderElectParams.Name"/> when nobody
    /// else is, or confirms (and renews) that it still is. True while it leads. Call it again well within the ttl.</summary>
    Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct);

    /// <summary>Gives up leadership, if held, so that another holder can be elected at once.</summary>
    Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct);
}

/// <summary>The part of <see cref="IJobStore"/> for the audit log and alert deliveries.</summary>
/// <remarks>Like the whole contract, not for implementation outside this repository before 1.0.</remarks>
public interface IStoreAuditLog
{
    /// <summary>Appends one entry to the audit log.</summary>
    Task AuditAppendAsync(AuditEntry entry, CancellationToken ct);

    /// <summary>Audit entries, newest first, filtered; keyset-paginated by <see cref="AuditListParams.Before"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct);

    /// <summary>Writes alerts to the outbox, skipping those whose key is there already; returns how many were new.</summary>
    Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct);

    /// <summary>Alerts not delivered nor given up whose next attempt is due, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct);

    /// <summary>
    /// Records one delivery attempt: delivered, to retry at a time, or given up. Removes delivered and given-up
    /// alerts older than <paramref name="keep"/> (their keys with them: an event that old is not seen again).
    /// </summary>
    Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct);
}
