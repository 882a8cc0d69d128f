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
    /// <inheritdoc cref="IJobStore.MigrateAsync"/>
    Task MigrateAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.SchemaVersionAsync"/>
    Task<int> SchemaVersionAsync(CancellationToken ct);
}

/// <summary>Inserting jobs: batches, idempotency keys and uniqueness windows.</summary>
internal interface IStoreEnqueue
{
    /// <inheritdoc cref="IJobStore.JobEnqueueManyAsync"/>
    Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct);
}

/// <summary>Claiming queued jobs under a lease.</summary>
internal interface IStoreClaims
{
    /// <inheritdoc cref="IJobStore.JobClaimAsync"/>
    Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct);
}

/// <summary>Workers' fenced reports: outcomes, checkpoints, progress, logs, usage.</summary>
internal interface IStoreReports
{
    /// <inheritdoc cref="IJobStore.JobReportManyAsync"/>
    Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct);
}

/// <summary>Reading jobs: one, a page, a count, the oldest matching.</summary>
internal interface IStoreJobQueries
{
    /// <inheritdoc cref="IJobStore.JobGetAsync"/>
    Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobLogsAsync"/>
    Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobListAsync"/>
    Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobCountAsync"/>
    Task<long> JobCountAsync(JobMatch m, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobFindOldestAsync"/>
    Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct);
}

/// <summary>Queue statistics and backlog.</summary>
internal interface IStoreCounts
{
    /// <inheritdoc cref="IJobStore.QueueStatsAsync"/>
    Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueueBacklogAsync"/>
    Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct);
}

/// <summary>Changing jobs, workers and queues on request: cancel, retry, bulk actions, worker commands, pause and resume.</summary>
internal interface IStoreControl
{
    /// <inheritdoc cref="IJobStore.JobCancelAsync(Guid, CancellationToken)"/>
    Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobCancelAsync(Guid, bool, CancellationToken)"/>
    Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobRetryAsync"/>
    Task JobRetryAsync(Guid id, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerCommandSendAsync"/>
    Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueuePauseAsync"/>
    Task QueuePauseAsync(string queue, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueueResumeAsync"/>
    Task QueueResumeAsync(string queue, CancellationToken ct);
}

/// <summary>Queue limits: setting, clearing and listing them.</summary>
internal interface IStoreFlowLimits
{
    /// <inheritdoc cref="IJobStore.QueueLimitsSetAsync(string, QueueLimits, bool, CancellationToken)"/>
    Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueueLimitsClearAsync"/>
    Task QueueLimitsClearAsync(string queue, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueueLimitsListAsync"/>
    Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct);
}

/// <summary>The worker registry: registration, heartbeats, commands, dead workers.</summary>
internal interface IStoreWorkers
{
    /// <inheritdoc cref="IJobStore.WorkerRegisterAsync"/>
    Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerHeartbeatAsync"/>
    Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerCommandsTakeAsync"/>
    Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerDeregisterAsync"/>
    Task WorkerDeregisterAsync(string workerId, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerListAsync"/>
    Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobTypesServedAsync"/>
    Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerMarkDeadAsync"/>
    Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkerRunningJobsAsync"/>
    Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct);
}

/// <summary>Workflows: creating, reading, listing and cancelling them.</summary>
internal interface IStoreWorkflows
{
    /// <inheritdoc cref="IJobStore.WorkflowCreateAsync"/>
    Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkflowGetAsync"/>
    Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkflowListAsync"/>
    Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.WorkflowCancelAsync"/>
    Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct);
}

/// <summary>Schedules: their definitions, fires and advances.</summary>
internal interface IStoreSchedules
{
    /// <inheritdoc cref="IJobStore.ScheduleUpsertAsync"/>
    Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.ScheduleGetAsync"/>
    Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.ScheduleListAsync"/>
    Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.ScheduleDeleteAsync"/>
    Task ScheduleDeleteAsync(string name, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.SchedulePauseAsync"/>
    Task SchedulePauseAsync(string name, bool paused, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.ScheduleFireAsync"/>
    Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.ScheduleAdvanceAsync"/>
    Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct);
}

/// <summary>Upkeep: promotion of due jobs, rescue, retention and cleaning.</summary>
internal interface IStoreMaintenance
{
    /// <inheritdoc cref="IJobStore.JobPromoteDueAsync"/>
    Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobNextDueAsync"/>
    Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobRescueExpiredAsync"/>
    Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.JobCleanAsync"/>
    Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.UpkeepAsync"/>
    Task<UpkeepResult> UpkeepAsync(CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueueRetentionSetAsync"/>
    Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.QueueRetentionListAsync"/>
    Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct);
}

/// <summary>Leader election.</summary>
internal interface IStoreLeadership
{
    /// <inheritdoc cref="IJobStore.LeaderTryElectAsync"/>
    Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.LeaderResignAsync"/>
    Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct);
}

/// <summary>The audit log and alert deliveries.</summary>
internal interface IStoreAuditLog
{
    /// <inheritdoc cref="IJobStore.AuditAppendAsync"/>
    Task AuditAppendAsync(AuditEntry e, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.AuditListAsync"/>
    Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.AlertEnqueueAsync"/>
    Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.AlertDueAsync"/>
    Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct);
    /// <inheritdoc cref="IJobStore.AlertSettleAsync"/>
    Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct);
}
