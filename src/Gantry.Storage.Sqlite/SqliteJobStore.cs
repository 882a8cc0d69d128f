using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, shared safely by any number of processes.
/// Within a process all writes go through one connection behind an async lock (SQLite has one
/// writer at a time anyway); every write transaction starts with <c>BEGIN IMMEDIATE</c> so that two
/// processes never deadlock upgrading a read lock, and waits out the other's lock up to the busy
/// timeout. Reads use pooled connections and never block writers. Safe to use from any number of threads.
/// </summary>
/// <remarks>Each member forwards to the part of the store that owns it (<c>Sqlite*</c> types in this project); the
/// database they share (<c>SqliteDatabase</c>) holds every connection.</remarks>
public sealed class SqliteJobStore : IJobStore
{
    private readonly SqliteDatabase _db;
    private readonly SqliteMigrations _migrations;
    private readonly SqliteEnqueue _enqueue;
    private readonly SqliteClaims _claims;
    private readonly SqliteFlowLimits _flowLimits;
    private readonly SqliteReports _reports;
    private readonly SqliteJobQueries _jobQueries;
    private readonly SqliteCounts _counts;
    private readonly SqliteControl _control;
    private readonly SqliteWorkers _workers;
    private readonly SqliteWorkflows _workflows;
    private readonly SqliteSchedules _schedules;
    private readonly SqliteMaintenance _maintenance;
    private readonly SqliteLeadership _leadership;
    private readonly SqliteAuditLog _auditLog;

    private SqliteJobStore(SqliteStoreOptions options)
    {
        _db = new SqliteDatabase(options);
        FullPath = _db.FullPath;
        // State two parts share, each handed to both: the rows this instance claimed (the claim remembers them, a
        // report forgets them) and the claim's row reader (the plain and the limited claim read rows alike).
        var claimedRows = new ClaimedRows();
        var claimReader = new ClaimedJobReader();
        _migrations = new SqliteMigrations(_db);
        _counts = new SqliteCounts(_db);
        _workflows = new SqliteWorkflows(_db, Signals);
        _flowLimits = new SqliteFlowLimits(_db, Signals, claimReader);
        _enqueue = new SqliteEnqueue(_db, Signals);
        _claims = new SqliteClaims(_db, _flowLimits, claimReader, claimedRows, _workflows);
        _reports = new SqliteReports(_db, Signals, claimedRows, _workflows, _counts);
        _jobQueries = new SqliteJobQueries(_db);
        _control = new SqliteControl(_db, Signals, _workflows);
        _workers = new SqliteWorkers(_db, _reports);
        _schedules = new SqliteSchedules(_db, Signals);
        _maintenance = new SqliteMaintenance(_db, Signals, _workflows, _counts, _reports);
        _leadership = new SqliteLeadership(_db);
        _auditLog = new SqliteAuditLog(_db);
    }

    /// <summary>Opens (and when allowed, creates and migrates) the store at <see cref="SqliteStoreOptions.Path"/>.</summary>
    public static async Task<SqliteJobStore> OpenAsync(SqliteStoreOptions options, CancellationToken ct)
    {
        options.Validate();
        var path = System.IO.Path.GetFullPath(options.Path);
        if (Directory.Exists(path))
            throw new StoreUnavailableException($"database file {path} is a directory");
        if (!File.Exists(path))
        {
            if (!options.CreateIfMissing)
                throw new StoreUnavailableException($"no Gantry store at {path} (start one with `gantry run --db {options.Path}` or submit a job to create it)");
            var dir = System.IO.Path.GetDirectoryName(path);
            if (dir is not null && !Directory.Exists(dir))
                throw new StoreUnavailableException($"cannot create database file {path}: directory {dir} does not exist");
        }
        var store = new SqliteJobStore(options);
        try
        {
            if (options.Migrate) await store._migrations.MigrateAsync(ct).ConfigureAwait(false);
            else await store._migrations.CheckAsync(ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The database file's absolute path.</summary>
    public string FullPath { get; }

    /// <inheritdoc/>
    public string Description => $"sqlite:{FullPath}";

    /// <inheritdoc/>
    public bool SupportsCrossProcessNotifications => false;

    /// <inheritdoc/>
    public StoreSignals Signals { get; } = new();

    /// <summary>The newest schema version this code knows (what <see cref="MigrateAsync"/> brings a store to).</summary>
    public static int LatestSchemaVersion => SqliteSchema.LatestVersion;

    /// <inheritdoc/>
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
    public Task<long> JobCountAsync(JobMatch m, CancellationToken ct) => _jobQueries.JobCountAsync(m, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct) => _jobQueries.JobFindOldestAsync(m, limit, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct) => _counts.QueueStatsAsync(ct);

    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct) => _counts.QueueBacklogAsync(ct);

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => _control.JobCancelAsync(id, ct);

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct) => _control.JobCancelAsync(id, now, ct);

    /// <inheritdoc/>
    public Task JobRetryAsync(Guid id, CancellationToken ct) => _control.JobRetryAsync(id, ct);

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
    public Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct) => _workers.WorkerRegisterAsync(p, ct);

    /// <inheritdoc/>
    public Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => _workers.WorkerHeartbeatAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct) => _workers.WorkerCommandsTakeAsync(workerId, ct);

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
    public Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct) => _maintenance.QueueRetentionSetAsync(p, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct) => _maintenance.QueueRetentionListAsync(ct);

    /// <inheritdoc/>
    public Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct) => _leadership.LeaderTryElectAsync(p, ct);

    /// <inheritdoc/>
    public Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct) => _leadership.LeaderResignAsync(p, ct);

    /// <inheritdoc/>
    public Task AuditAppendAsync(AuditEntry e, CancellationToken ct) => _auditLog.AuditAppendAsync(e, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => _auditLog.AuditListAsync(p, ct);

    /// <inheritdoc/>
    public Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct) => _auditLog.AlertEnqueueAsync(alerts, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct) => _auditLog.AlertDueAsync(limit, ct);

    /// <inheritdoc/>
    public Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct) => _auditLog.AlertSettleAsync(results, keep, ct);

    /// <summary>Closes the file's write connection once the write in flight, if any, has ended; reads and writes
    /// after it throw <see cref="ObjectDisposedException"/>. Safe to call more than once.</summary>
    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
