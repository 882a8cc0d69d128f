using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Workflows;

namespace Gantry.Storage;

/// <summary>
/// The base of Gantry's relational stores (<c>SqliteJobStore</c>, <c>PostgresJobStore</c>): each <see cref="IJobStore"/>
/// member forwards to the part of the store that owns it (claims, reports, workers, …), which each store implements over
/// its own database. Only Gantry's stores derive from it (its constructor is not public): see <see cref="IJobStore"/>.
/// </summary>
public abstract class RelationalJobStore : IJobStore
{
    private readonly StoreParts _parts;

    private protected RelationalJobStore(StoreParts parts) => _parts = parts;

    /// <inheritdoc/>
    public abstract string Description { get; }

    /// <inheritdoc/>
    public abstract bool SupportsCrossProcessNotifications { get; }

    /// <inheritdoc/>
    public abstract StoreSignals Signals { get; }

    /// <inheritdoc/>
    public Task MigrateAsync(CancellationToken ct) => _parts.Migrations.MigrateAsync(ct);

    /// <inheritdoc/>
    public Task<int> SchemaVersionAsync(CancellationToken ct) => _parts.Migrations.SchemaVersionAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct) => _parts.Enqueue.JobEnqueueManyAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct) => _parts.Claims.JobClaimAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) => _parts.Reports.JobReportManyAsync(reports, ct);

    /// <inheritdoc/>
    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => _parts.JobQueries.JobGetAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => _parts.JobQueries.JobLogsAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => _parts.JobQueries.JobListAsync(p, ct);

    /// <inheritdoc/>
    public Task<long> JobCountAsync(JobMatch m, CancellationToken ct) => _parts.JobQueries.JobCountAsync(m, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct) => _parts.JobQueries.JobFindOldestAsync(m, limit, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct) => _parts.Counts.QueueStatsAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct) => _parts.Counts.QueueBacklogAsync(ct);

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => _parts.Control.JobCancelAsync(id, ct);

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct) => _parts.Control.JobCancelAsync(id, now, ct);

    /// <inheritdoc/>
    public Task JobRetryAsync(Guid id, CancellationToken ct) => _parts.Control.JobRetryAsync(id, ct);

    /// <inheritdoc/>
    public Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct) => _parts.Control.WorkerCommandSendAsync(workerId, kind, ct);

    /// <inheritdoc/>
    public Task QueuePauseAsync(string queue, CancellationToken ct) => _parts.Control.QueuePauseAsync(queue, ct);

    /// <inheritdoc/>
    public Task QueueResumeAsync(string queue, CancellationToken ct) => _parts.Control.QueueResumeAsync(queue, ct);

    /// <inheritdoc/>
    public Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct) => _parts.FlowLimits.QueueLimitsSetAsync(queue, limits, anyQueue, ct);

    /// <inheritdoc/>
    public Task QueueLimitsClearAsync(string queue, CancellationToken ct) => _parts.FlowLimits.QueueLimitsClearAsync(queue, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct) => _parts.FlowLimits.QueueLimitsListAsync(ct);

    /// <inheritdoc/>
    public Task<QueueKeysPage> QueueKeysListAsync(QueueKeysQuery query, CancellationToken ct) => _parts.FlowLimits.QueueKeysListAsync(query, ct);

    /// <inheritdoc/>
    public Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct) => _parts.Workers.WorkerRegisterAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => _parts.Workers.WorkerHeartbeatAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct) => _parts.Workers.WorkerCommandsTakeAsync(workerId, ct);

    /// <inheritdoc/>
    public Task WorkerDeregisterAsync(string workerId, CancellationToken ct) => _parts.Workers.WorkerDeregisterAsync(workerId, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct) => _parts.Workers.WorkerListAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct) => _parts.Workers.JobTypesServedAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct) => _parts.Workers.WorkerMarkDeadAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct) => _parts.Workers.WorkerRunningJobsAsync(ct);

    /// <inheritdoc/>
    public Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct) => _parts.Workflows.WorkflowCreateAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => _parts.Workflows.WorkflowGetAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => _parts.Workflows.WorkflowListAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct) => _parts.Workflows.WorkflowCancelAsync(id, ct);

    /// <inheritdoc/>
    public Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct) => _parts.Schedules.ScheduleUpsertAsync(p, ct);

    /// <inheritdoc/>
    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct) => _parts.Schedules.ScheduleGetAsync(name, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct) => _parts.Schedules.ScheduleListAsync(ct);

    /// <inheritdoc/>
    public Task ScheduleDeleteAsync(string name, CancellationToken ct) => _parts.Schedules.ScheduleDeleteAsync(name, ct);

    /// <inheritdoc/>
    public Task SchedulePauseAsync(string name, bool paused, CancellationToken ct) => _parts.Schedules.SchedulePauseAsync(name, paused, ct);

    /// <inheritdoc/>
    public Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct) => _parts.Schedules.ScheduleFireAsync(p, ct);

    /// <inheritdoc/>
    public Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct) => _parts.Schedules.ScheduleAdvanceAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct) => _parts.Maintenance.JobPromoteDueAsync(p, ct);

    /// <inheritdoc/>
    public Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct) => _parts.Maintenance.JobNextDueAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct) => _parts.Maintenance.JobRescueExpiredAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct) => _parts.Maintenance.JobCleanAsync(p, ct);

    /// <inheritdoc/>
    public Task<UpkeepResult> UpkeepAsync(CancellationToken ct) => _parts.Maintenance.UpkeepAsync(ct);

    /// <inheritdoc/>
    public Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct) => _parts.Maintenance.QueueRetentionSetAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct) => _parts.Maintenance.QueueRetentionListAsync(ct);

    /// <inheritdoc/>
    public Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct) => _parts.Leadership.LeaderTryElectAsync(p, ct);

    /// <inheritdoc/>
    public Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct) => _parts.Leadership.LeaderResignAsync(p, ct);

    /// <inheritdoc/>
    public Task AuditAppendAsync(AuditEntry e, CancellationToken ct) => _parts.AuditLog.AuditAppendAsync(e, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => _parts.AuditLog.AuditListAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct) => _parts.AuditLog.AlertEnqueueAsync(alerts, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct) => _parts.AuditLog.AlertDueAsync(limit, ct);

    /// <inheritdoc/>
    public Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct) => _parts.AuditLog.AlertSettleAsync(results, keep, ct);

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();
}
