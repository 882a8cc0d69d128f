using Gantry.Server.Scheduling;
using Gantry.Server.Submission;

namespace Gantry.Hosting.Control;

/// <summary>
/// The commands straight on a store (<c>--store</c>, <c>--db</c>). Each command that changes something appends an entry to
/// the audit log (actor <c>cli:&lt;os user&gt;</c>, the same actions as the API's, <c>Server/Api/ApiAudit</c>) once it has
/// succeeded; through <c>--server</c> the server records it instead.
/// </summary>
/// <param name="store">The open store; disposed with the control.</param>
/// <param name="time">The clock (tests); the system's by default.</param>
public sealed class StoreControl(IJobStore store, TimeProvider? time = null) : IGantryControl
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc/>
    public string Description => store.Description;

    private async Task AuditAsync(string action, string target, CancellationToken ct, long? count = null) =>
        await store.AuditAppendAsync(new AuditEntry(JobIds.New(_time), _time.GetUtcNow(), Audit.CliActor, action, target, count), ct).ConfigureAwait(false);

    private async Task<T> AuditedAsync<T>(string action, string target, Task<T> act, CancellationToken ct)
    {
        var result = await act.ConfigureAwait(false);
        await AuditAsync(action, target, ct).ConfigureAwait(false);
        return result;
    }

    private async Task AuditedAsync(string action, string target, Task act, CancellationToken ct)
    {
        await act.ConfigureAwait(false);
        await AuditAsync(action, target, ct).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<JobEnqueueResult>> JobSubmitAsync(IReadOnlyList<(JobDraft Draft, NewJob Job)> jobs, bool allowUnknownTypes,
        IReadOnlyList<string> knownTypes, CancellationToken ct)
        => Submit.JobsAsync(store, jobs.Select(j => j.Job).ToArray(), allowUnknownTypes, knownTypes, ct);

    /// <inheritdoc/>
    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => store.JobGetAsync(id, ct);

    /// <inheritdoc/>
    public Task<JobRecord?> JobWaitAsync(Guid id, TimeSpan wait, CancellationToken ct) => JobWaits.UntilEndedAsync(store, id, wait, _time, ct);
    /// <inheritdoc/>
    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => store.JobListAsync(p, ct);
    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => JobCancelAsync(id, now: false, ct);
    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct) => AuditedAsync("jobs.cancel", $"job {id}", store.JobCancelAsync(id, now, ct), ct);
    /// <inheritdoc/>
    public Task JobRetryAsync(Guid id, CancellationToken ct) => AuditedAsync("jobs.retry", $"job {id}", store.JobRetryAsync(id, ct), ct);

    /// <inheritdoc/>
    public async Task<JobBulkResult> JobBulkAsync(JobBulkParams p, CancellationToken ct)
    {
        var result = await store.JobBulkAsync(p, ct).ConfigureAwait(false);
        if (!result.DryRun)
            await AuditAsync(p.Action == JobBulkAction.Retry ? "jobs.bulk_retry" : "jobs.bulk_cancel", p.Filter.Describe(), ct, result.Touched).ConfigureAwait(false);
        return result;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => store.AuditListAsync(p, ct);
    /// <inheritdoc/>
    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => store.JobLogsAsync(id, ct);

    /// <inheritdoc/>
    public Task<WorkflowSubmitView> WorkflowCreateAsync(NewWorkflow workflow, string document, bool allowUnknownTypes, IReadOnlyList<string> knownTypes,
        CancellationToken ct)
        => Submit.WorkflowAsync(store, workflow, allowUnknownTypes, knownTypes, ct);

    /// <inheritdoc/>
    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => store.WorkflowGetAsync(id, ct);
    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => store.WorkflowListAsync(p, ct);
    /// <inheritdoc/>
    public Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct) => AuditedAsync("workflows.cancel", $"workflow {id}", store.WorkflowCancelAsync(id, ct), ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<QueueView>> QueueListAsync(CancellationToken ct) =>
        await QueueView.ListAsync(store, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);

    /// <inheritdoc/>
    public Task QueuePauseAsync(string queue, CancellationToken ct) => AuditedAsync("queues.pause", $"queue {queue}", store.QueuePauseAsync(queue, ct), ct);
    /// <inheritdoc/>
    public Task QueueResumeAsync(string queue, CancellationToken ct) => AuditedAsync("queues.resume", $"queue {queue}", store.QueueResumeAsync(queue, ct), ct);
    /// <inheritdoc/>
    public Task QueueLimitsSetAsync(string queue, Gantry.Flow.QueueLimits limits, CancellationToken ct) =>
        AuditedAsync("queues.limits_set", $"queue {queue}", store.QueueLimitsSetAsync(queue, limits, ct), ct);
    /// <inheritdoc/>
    public Task QueueLimitsClearAsync(string queue, CancellationToken ct) => AuditedAsync("queues.limits_clear", $"queue {queue}", store.QueueLimitsClearAsync(queue, ct), ct);
    /// <inheritdoc/>
    public async Task<QueueKeysView> QueueKeysListAsync(Gantry.Flow.QueueKeysQuery query, CancellationToken ct) =>
        QueueKeysView.From(await store.QueueKeysListAsync(query, ct).ConfigureAwait(false));

    /// <inheritdoc/>
    public async Task<IReadOnlyList<WorkerView>> WorkerListAsync(bool all, CancellationToken ct) => await WorkerView.ListAsync(store, all, ct).ConfigureAwait(false);
    /// <inheritdoc/>
    public Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct) =>
        AuditedAsync($"workers.{kind.ToString().ToLowerInvariant()}", $"worker {workerId}", store.WorkerCommandSendAsync(workerId, kind, ct), ct);

    /// <inheritdoc/>
    public Task<ScheduleUpsertOutcome> ScheduleSaveAsync(ScheduleDefinition definition, bool allowUnknownType, IReadOnlyList<string> knownTypes, CancellationToken ct) =>
        AuditedAsync("schedules.save", $"schedule {definition.Name}", Schedules.AddAsync(store, definition, allowUnknownType, knownTypes, ct), ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ScheduleView>> ScheduleListAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        return (await store.ScheduleListAsync(ct).ConfigureAwait(false)).Select(s => ScheduleView.From(s, now)).ToArray();
    }

    /// <inheritdoc/>
    public async Task<ScheduleView> ScheduleGetAsync(string name, CancellationToken ct) =>
        ScheduleView.From(await store.ScheduleGetAsync(name, ct).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(name), DateTimeOffset.UtcNow);

    /// <inheritdoc/>
    public Task ScheduleDeleteAsync(string name, CancellationToken ct) => AuditedAsync("schedules.remove", $"schedule {name}", store.ScheduleDeleteAsync(name, ct), ct);
    /// <inheritdoc/>
    public Task SchedulePauseAsync(string name, bool paused, CancellationToken ct) =>
        AuditedAsync(paused ? "schedules.pause" : "schedules.resume", $"schedule {name}", store.SchedulePauseAsync(name, paused, ct), ct);

    /// <inheritdoc/>
    public async Task<ScheduleTriggerView> ScheduleTriggerAsync(string name, CancellationToken ct)
    {
        var (fireTime, jobId) = await Schedules.TriggerAsync(store, name, TimeProvider.System, ct).ConfigureAwait(false);
        await AuditAsync("schedules.trigger", $"schedule {name}", ct).ConfigureAwait(false);
        return new ScheduleTriggerView(name, fireTime, jobId?.ToString());
    }

    /// <inheritdoc/>
    public Task QueueRetentionSetAsync(QueueRetention retention, CancellationToken ct) =>
        AuditedAsync("queues.retention_set", $"queue {retention.Queue}", store.QueueRetentionSetAsync(retention, ct), ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<QueueRetentionView>> QueueRetentionListAsync(CancellationToken ct) =>
        (await store.QueueRetentionListAsync(ct).ConfigureAwait(false)).Select(QueueRetentionView.From).ToArray();

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => store.DisposeAsync();
}
