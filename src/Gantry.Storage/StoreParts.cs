using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Workflows;

namespace Gantry.Storage;

// The parts a relational store is made of, one responsibility each: every IJobStore member belongs to exactly one,
// and RelationalJobStore forwards it there. Each store (SQLite, PostgreSQL) implements every part over its own database.

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

/// <summary>The schema: creating and upgrading it, and its version.</summary>
internal interface IStoreMigrations
{
    Task MigrateAsync(CancellationToken ct);
    Task<int> SchemaVersionAsync(CancellationToken ct);
}

/// <summary>Inserting jobs: batches, idempotency keys and uniqueness windows.</summary>
internal interface IStoreEnqueue
{
    Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct);
}

/// <summary>Claiming queued jobs under a lease.</summary>
internal interface IStoreClaims
{
    Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct);
}

/// <summary>Workers' fenced reports: outcomes, checkpoints, progress, logs, usage.</summary>
internal interface IStoreReports
{
    Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct);
}

/// <summary>Reading jobs: one, a page, a count, the oldest matching.</summary>
internal interface IStoreJobQueries
{
    Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct);
    Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct);
    Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct);
    Task<long> JobCountAsync(JobMatch m, CancellationToken ct);
    Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct);
}

/// <summary>Queue statistics and backlog.</summary>
internal interface IStoreCounts
{
    Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct);
    Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct);
}

/// <summary>Changing jobs, workers and queues on request: cancel, retry, bulk actions, worker commands, pause and resume.</summary>
internal interface IStoreControl
{
    Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct);
    Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct);
    Task JobRetryAsync(Guid id, CancellationToken ct);
    Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct);
    Task QueuePauseAsync(string queue, CancellationToken ct);
    Task QueueResumeAsync(string queue, CancellationToken ct);
}

/// <summary>Queue limits: setting, clearing and listing them.</summary>
internal interface IStoreFlowLimits
{
    Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct);
    Task QueueLimitsClearAsync(string queue, CancellationToken ct);
    Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct);
}

/// <summary>The worker registry: registration, heartbeats, commands, dead workers.</summary>
internal interface IStoreWorkers
{
    Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct);
    Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct);
    Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct);
    Task WorkerDeregisterAsync(string workerId, CancellationToken ct);
    Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct);
    Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct);
    Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct);
    Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct);
}

/// <summary>Workflows: creating, reading, listing and cancelling them.</summary>
internal interface IStoreWorkflows
{
    Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct);
    Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct);
    Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct);
    Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct);
}

/// <summary>Schedules: their definitions, fires and advances.</summary>
internal interface IStoreSchedules
{
    Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct);
    Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct);
    Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct);
    Task ScheduleDeleteAsync(string name, CancellationToken ct);
    Task SchedulePauseAsync(string name, bool paused, CancellationToken ct);
    Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct);
    Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct);
}

/// <summary>Upkeep: promotion of due jobs, rescue, retention and cleaning.</summary>
internal interface IStoreMaintenance
{
    Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct);
    Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct);
    Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct);
    Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct);
    Task<UpkeepResult> UpkeepAsync(CancellationToken ct);
    Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct);
    Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct);
}

/// <summary>Leader election.</summary>
internal interface IStoreLeadership
{
    Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct);
    Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct);
}

/// <summary>The audit log and alert deliveries.</summary>
internal interface IStoreAuditLog
{
    Task AuditAppendAsync(AuditEntry e, CancellationToken ct);
    Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct);
    Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct);
    Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct);
    Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct);
}
