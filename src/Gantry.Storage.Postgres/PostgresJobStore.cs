using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.Postgres;

/// <summary>
/// The distributed store: one PostgreSQL database (one schema in it) shared by any number of
/// processes on any hosts. Claims take rows with <c>FOR UPDATE SKIP LOCKED</c>, so claimers never
/// wait for each other; every state change is a conditional update built from
/// <see cref="Gantry.Jobs.JobStateMachine"/>; writes that make work available NOTIFY a channel that
/// every instance LISTENs on, so idle workers in other processes wake at once (polling stays the
/// fallback). Connections run with <c>plan_cache_mode = force_generic_plan</c>: a plan chosen on the
/// statistics of a queue full of queued rows must not turn batched updates into table scans.
/// Thread-safe; open it with <see cref="OpenAsync"/> and dispose it once.
/// </summary>
/// <remarks>
/// Each responsibility is a part of its own (<see cref="PostgresClaims"/>, <see cref="PostgresReports"/>, …) over the
/// shared <see cref="PostgresDatabase"/>; this type makes them, forwards each member to its part and closes them.
/// </remarks>
public sealed class PostgresJobStore : IJobStore
{
    private readonly PostgresDatabase _db;
    private readonly PostgresMigrations _migrations;
    private readonly PostgresEnqueue _enqueue;
    private readonly PostgresClaims _claims;
    private readonly PostgresFlowLimits _flowLimits;
    private readonly PostgresReports _reports;
    private readonly PostgresJobQueries _jobQueries;
    private readonly PostgresCounts _counts;
    private readonly PostgresControl _control;
    private readonly PostgresWorkers _workers;
    private readonly PostgresWorkflows _workflows;
    private readonly PostgresSchedules _schedules;
    private readonly PostgresMaintenance _maintenance;
    private readonly PostgresLeadership _leadership;
    private readonly PostgresAuditLog _auditLog;
    private PostgresListener? _listener;

    private PostgresJobStore(PostgresStoreOptions options)
    {
        _db = new PostgresDatabase(options);
        // The queues with limits: the flow limits' settings invalidate it, every claim reads it.
        var limited = new PostgresLimitedQueues();
        _migrations = new PostgresMigrations(_db);
        _workflows = new PostgresWorkflows(_db);
        _counts = new PostgresCounts(_db);
        _enqueue = new PostgresEnqueue(_db);
        _claims = new PostgresClaims(_db, limited);
        _flowLimits = new PostgresFlowLimits(_db, limited);
        _reports = new PostgresReports(_db, _workflows);
        _jobQueries = new PostgresJobQueries(_db);
        _control = new PostgresControl(_db, _workflows);
        _workers = new PostgresWorkers(_db);
        _schedules = new PostgresSchedules(_db);
        _maintenance = new PostgresMaintenance(_db, _counts, _workflows);
        _leadership = new PostgresLeadership(_db);
        _auditLog = new PostgresAuditLog(_db);
    }

    /// <summary>Connects, creates or upgrades the schema (or, with <see cref="PostgresStoreOptions.Migrate"/> off, checks that
    /// it is at <see cref="LatestSchemaVersion"/>) and starts listening for other processes' wake-ups.</summary>
    /// <exception cref="InvalidInputException">The options are not valid.</exception>
    /// <exception cref="StoreUnavailableException">The server cannot be reached, or the schema is not one this code can use.</exception>
    public static async Task<PostgresJobStore> OpenAsync(PostgresStoreOptions options, CancellationToken ct)
    {
        var store = new PostgresJobStore(options);
        try
        {
            if (options.Migrate) await store._migrations.MigrateAsync(ct).ConfigureAwait(false);
            else await store._migrations.CheckSchemaAsync(ct).ConfigureAwait(false);
            if (options.Listen) store._listener = PostgresListener.Start(store._db.ListenConnectionString, store._db.Channel, store.Signals, store._db.Stopping);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>host:port of the server, for messages.</summary>
    public string Server => _db.Server;

    /// <inheritdoc/>
    public string Description => _db.Description;

    /// <inheritdoc/>
    public bool SupportsCrossProcessNotifications => true;

    /// <inheritdoc/>
    public StoreSignals Signals => _db.Signals;

    /// <summary>The newest schema version this code knows (what <see cref="MigrateAsync"/> brings a store to).</summary>
    public static int LatestSchemaVersion => PostgresSchema.LatestVersion;

    /// <summary>Completes once the listening connection is LISTENing (tests wait for it before relying on a wake-up).</summary>
    internal Task ListeningAsync => _listener?.Listening ?? Task.CompletedTask;

    /// <summary>
    /// Creates the schema and applies the migrations it lacks, all in one transaction holding an
    /// advisory lock on the schema's name: processes starting together queue up here, and the
    /// second finds the work done.
    /// </summary>
    public Task MigrateAsync(CancellationToken ct) => _migrations.MigrateAsync(ct);

    /// <inheritdoc/>
    public Task<int> SchemaVersionAsync(CancellationToken ct) => _migrations.SchemaVersionAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct) => _enqueue.JobEnqueueManyAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct) => _claims.JobClaimAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<bool>> JobReportManyAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) => _reports.JobReportManyAsync(reports, ct);

    /// <inheritdoc/>
    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => _jobQueries.JobGetAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => _jobQueries.JobLogsAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => _jobQueries.JobListAsync(p, ct);

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => _control.JobCancelAsync(id, now: false, ct);

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct) => _control.JobCancelAsync(id, now, ct);

    /// <inheritdoc/>
    public Task JobRetryAsync(Guid id, CancellationToken ct) => _control.JobRetryAsync(id, ct);

    /// <inheritdoc/>
    public Task<long> JobCountAsync(JobMatch m, CancellationToken ct) => _jobQueries.JobCountAsync(m, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct) => _jobQueries.JobFindOldestAsync(m, limit, ct);

    /// <inheritdoc/>
    public Task AuditAppendAsync(AuditEntry e, CancellationToken ct) => _auditLog.AuditAppendAsync(e, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => _auditLog.AuditListAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> JobPromoteDueAsync(JobPromoteParams p, CancellationToken ct) => _maintenance.JobPromoteDueAsync(p, ct);

    /// <inheritdoc/>
    public Task<DateTimeOffset?> JobNextDueAsync(CancellationToken ct) => _maintenance.JobNextDueAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<RescuedJob>> JobRescueExpiredAsync(JobRescueParams p, CancellationToken ct) => _maintenance.JobRescueExpiredAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> JobCleanAsync(JobCleanParams p, CancellationToken ct) => _maintenance.JobCleanAsync(p, ct);

    /// <inheritdoc/>
    public Task<UpkeepResult> UpkeepAsync(CancellationToken ct) => _maintenance.UpkeepAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct) => _counts.QueueStatsAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct) => _counts.QueueBacklogAsync(ct);

    /// <inheritdoc/>
    public Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct) => _workers.WorkerRegisterAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => _workers.WorkerHeartbeatAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct) => _workers.WorkerCommandsTakeAsync(workerId, ct);

    /// <inheritdoc/>
    public Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct) => _control.WorkerCommandSendAsync(workerId, kind, ct);

    /// <inheritdoc/>
    public Task QueuePauseAsync(string queue, CancellationToken ct) => _control.QueuePauseAsync(queue, ct);

    /// <inheritdoc/>
    public Task QueueResumeAsync(string queue, CancellationToken ct) => _control.QueueResumeAsync(queue, ct);

    /// <inheritdoc/>
    public Task QueueLimitsSetAsync(string queue, QueueLimits limits, bool anyQueue, CancellationToken ct) => _flowLimits.QueueLimitsSetAsync(queue, limits, anyQueue, ct);

    /// <inheritdoc/>
    public Task QueueLimitsClearAsync(string queue, CancellationToken ct) => _flowLimits.QueueLimitsClearAsync(queue, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueLimitStatus>> QueueLimitsListAsync(CancellationToken ct) => _flowLimits.QueueLimitsListAsync(ct);

    /// <inheritdoc/>
    public Task WorkerDeregisterAsync(string workerId, CancellationToken ct) => _workers.WorkerDeregisterAsync(workerId, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct) => _workers.WorkerListAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct) => _workers.JobTypesServedAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct) => _workers.WorkerMarkDeadAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct) => _workers.WorkerRunningJobsAsync(ct);

    /// <inheritdoc/>
    public Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct) => _workflows.WorkflowCreateAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => _workflows.WorkflowGetAsync(id, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => _workflows.WorkflowListAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct) => _workflows.WorkflowCancelAsync(id, ct);

    /// <inheritdoc/>
    public Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct) => _schedules.ScheduleUpsertAsync(p, ct);

    /// <inheritdoc/>
    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct) => _schedules.ScheduleGetAsync(name, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct) => _schedules.ScheduleListAsync(ct);

    /// <inheritdoc/>
    public Task ScheduleDeleteAsync(string name, CancellationToken ct) => _schedules.ScheduleDeleteAsync(name, ct);

    /// <inheritdoc/>
    public Task SchedulePauseAsync(string name, bool paused, CancellationToken ct) => _schedules.SchedulePauseAsync(name, paused, ct);

    /// <inheritdoc/>
    public Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct) => _schedules.ScheduleFireAsync(p, ct);

    /// <inheritdoc/>
    public Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct) => _schedules.ScheduleAdvanceAsync(p, ct);

    /// <inheritdoc/>
    public Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct) => _maintenance.QueueRetentionSetAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct) => _maintenance.QueueRetentionListAsync(ct);

    /// <inheritdoc/>
    public Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct) => _leadership.LeaderTryElectAsync(p, ct);

    /// <inheritdoc/>
    public Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct) => _leadership.LeaderResignAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct) => _auditLog.AlertEnqueueAsync(alerts, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct) => _auditLog.AlertDueAsync(limit, ct);

    /// <inheritdoc/>
    public Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct) => _auditLog.AlertSettleAsync(results, keep, ct);

    /// <summary>Stops listening, ends the leader sessions (freeing their locks) and closes the pool; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_db.Stop()) return;
        if (_listener is not null) await _listener.DisposeAsync().ConfigureAwait(false);
        await _leadership.DisposeAsync().ConfigureAwait(false);
        await _db.DisposeAsync().ConfigureAwait(false);
    }
}
