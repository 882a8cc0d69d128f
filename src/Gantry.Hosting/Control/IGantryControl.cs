
namespace Gantry.Hosting.Control;

/// <summary>
/// What the control commands (submit, jobs, workflows, queues, workers) ask of the coordinator. Opened on a
/// store directly (<see cref="StoreControl"/>) or on a server's HTTP API (<see cref="ApiControl"/>),
/// so every command behaves the same with <c>--store</c> and with <c>--server</c>.
/// </summary>
public interface IGantryControl : IAsyncDisposable
{
    /// <summary>Where the commands go, for people.</summary>
    string Description { get; }

    /// <summary>Enqueues the validated drafts, all or none. Unless <paramref name="allowUnknownTypes"/>, each type must be
    /// known: in <paramref name="knownTypes"/> (built in, configured), or served by a registered worker; a server knows its own.</summary>
    Task<IReadOnlyList<JobEnqueueResult>> JobSubmitAsync(IReadOnlyList<(JobDraft Draft, NewJob Job)> jobs, bool allowUnknownTypes,
        IReadOnlyList<string> knownTypes, CancellationToken ct);

    /// <summary>The job as stored; null when there is no such job.</summary>
    Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct);

    /// <summary>The job once it has ended (succeeded, dead or cancelled), or as it is after <paramref name="wait"/>; null when
    /// there is no such job. Woken by the end itself, not a tight poll (<see cref="JobWaits"/>; over HTTP, <c>?wait=</c>).</summary>
    Task<JobRecord?> JobWaitAsync(Guid id, TimeSpan wait, CancellationToken ct);
    /// <summary>The jobs <paramref name="p"/> selects, in its order.</summary>
    Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct);
    /// <summary>Cancels a job: at once when it is not running, else its worker is asked to stop it (after the cancel grace period). Throws <see cref="JobNotFoundException"/> for an unknown job.</summary>
    Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => JobCancelAsync(id, now: false, ct);
    /// <summary><paramref name="now"/>: the worker does not wait for the cancel grace period.</summary>
    Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct);
    /// <summary>Puts a dead or cancelled job back to queued, to be attempted again.</summary>
    Task JobRetryAsync(Guid id, CancellationToken ct);
    /// <summary>The lines a job's handler logged, every attempt's, oldest first.</summary>
    Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct);

    /// <summary>Retries or cancels the jobs a filter matches, at most <see cref="JobBulkParams.Max"/>, oldest first; a dry run counts them.</summary>
    Task<JobBulkResult> JobBulkAsync(JobBulkParams p, CancellationToken ct);

    /// <summary>The audit log, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct);

    /// <summary>Stores a validated workflow, all steps or none; <paramref name="document"/> is its text, as a server takes it.</summary>
    Task<WorkflowSubmitView> WorkflowCreateAsync(NewWorkflow workflow, string document, bool allowUnknownTypes, IReadOnlyList<string> knownTypes,
        CancellationToken ct);

    /// <summary>A workflow with its steps; null when there is no such workflow.</summary>
    Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct);
    /// <summary>Workflows newest first, as <paramref name="p"/> selects them.</summary>
    Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct);
    /// <summary>Cancels every unfinished step of a workflow (running ones are asked to stop).</summary>
    Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct);

    /// <summary>Every queue with its counts per state and its limits.</summary>
    Task<IReadOnlyList<QueueView>> QueueListAsync(CancellationToken ct);
    /// <summary>Pauses a queue: no job is claimed from it; running jobs go on.</summary>
    Task QueuePauseAsync(string queue, CancellationToken ct);
    /// <summary>Resumes a paused queue.</summary>
    Task QueueResumeAsync(string queue, CancellationToken ct);
    /// <summary>Sets a queue's flow limits, cluster-wide (docs/flow-control.md).</summary>
    Task QueueLimitsSetAsync(string queue, Gantry.Flow.QueueLimits limits, CancellationToken ct);
    /// <summary>Removes a queue's flow limits.</summary>
    Task QueueLimitsClearAsync(string queue, CancellationToken ct);
    /// <summary>A page of a per-key queue's concurrency keys, each with its queued and running jobs and whether the limit holds it back.</summary>
    Task<QueueKeysView> QueueKeysListAsync(Gantry.Flow.QueueKeysQuery query, CancellationToken ct);

    /// <summary>Live workers (and any holding jobs); with <paramref name="all"/>, stopped and dead ones too.</summary>
    Task<IReadOnlyList<WorkerView>> WorkerListAsync(bool all, CancellationToken ct);
    /// <summary>Sends a command (pause, resume, drain) to a worker; it takes it at its next poll.</summary>
    Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct);

    /// <summary>Creates or replaces a schedule after checking it; its job type must be known unless <paramref name="allowUnknownType"/>.</summary>
    Task<ScheduleUpsertOutcome> ScheduleSaveAsync(ScheduleDefinition definition, bool allowUnknownType, IReadOnlyList<string> knownTypes, CancellationToken ct);
    /// <summary>Every schedule, with its next fire times.</summary>
    Task<IReadOnlyList<ScheduleView>> ScheduleListAsync(CancellationToken ct);
    /// <summary>One schedule; throws <see cref="ScheduleNotFoundException"/>.</summary>
    Task<ScheduleView> ScheduleGetAsync(string name, CancellationToken ct);
    /// <summary>Removes a schedule; throws <see cref="ScheduleNotFoundException"/>.</summary>
    Task ScheduleDeleteAsync(string name, CancellationToken ct);
    /// <summary>Pauses (<paramref name="paused"/> true) or resumes a schedule; throws <see cref="ScheduleNotFoundException"/>.</summary>
    Task SchedulePauseAsync(string name, bool paused, CancellationToken ct);
    /// <summary>Fires a schedule now, once.</summary>
    Task<ScheduleTriggerView> ScheduleTriggerAsync(string name, CancellationToken ct);

    /// <summary>Sets how long a queue's finished jobs are kept, per state.</summary>
    Task QueueRetentionSetAsync(QueueRetention retention, CancellationToken ct);
    /// <summary>The queues with a retention of their own.</summary>
    Task<IReadOnlyList<QueueRetentionView>> QueueRetentionListAsync(CancellationToken ct);
}
