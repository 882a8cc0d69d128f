using Gantry.Jobs;
using Gantry.Protocol;
using Gantry.Server.Api;
using Gantry.Scheduling;
using Gantry.Server.Scheduling;
using Gantry.Server.Submission;
using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Hosting.Control;

/// <summary>The commands straight on a store (<c>--store</c>, <c>--db</c>).</summary>
internal sealed class StoreControl(IJobStore store) : IGantryControl
{
    public string Description => store.Description;

    public Task<IReadOnlyList<JobEnqueueResult>> JobSubmitAsync(IReadOnlyList<(JobDraft Draft, NewJob Job)> jobs, bool allowUnknownTypes,
        IReadOnlyList<string> knownTypes, CancellationToken ct)
        => Submit.JobsAsync(store, jobs.Select(j => j.Job).ToArray(), allowUnknownTypes, knownTypes, ct);

    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => store.JobGetAsync(id, ct);
    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => store.JobListAsync(p, ct);
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => store.JobCancelAsync(id, now: false, ct);
    public Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct) => store.JobCancelAsync(id, now, ct);
    public Task JobRetryAsync(Guid id, CancellationToken ct) => store.JobRetryAsync(id, ct);
    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => store.JobLogsAsync(id, ct);

    public Task<WorkflowSubmitView> WorkflowCreateAsync(NewWorkflow workflow, string document, bool allowUnknownTypes, IReadOnlyList<string> knownTypes,
        CancellationToken ct)
        => Submit.WorkflowAsync(store, workflow, allowUnknownTypes, knownTypes, ct);

    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => store.WorkflowGetAsync(id, ct);
    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => store.WorkflowListAsync(p, ct);
    public Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct) => store.WorkflowCancelAsync(id, ct);

    public async Task<IReadOnlyList<QueueView>> QueueListAsync(CancellationToken ct) =>
        await QueueView.ListAsync(store, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);

    public Task QueuePauseAsync(string queue, CancellationToken ct) => store.QueuePauseAsync(queue, ct);
    public Task QueueResumeAsync(string queue, CancellationToken ct) => store.QueueResumeAsync(queue, ct);
    public Task QueueLimitsSetAsync(string queue, Gantry.Flow.QueueLimits limits, CancellationToken ct) => store.QueueLimitsSetAsync(queue, limits, ct);
    public Task QueueLimitsClearAsync(string queue, CancellationToken ct) => store.QueueLimitsClearAsync(queue, ct);

    public async Task<IReadOnlyList<WorkerView>> WorkerListAsync(bool all, CancellationToken ct) => await WorkerView.ListAsync(store, all, ct).ConfigureAwait(false);
    public Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct) => store.WorkerCommandSendAsync(workerId, kind, ct);

    public Task<ScheduleUpsertOutcome> ScheduleSaveAsync(ScheduleDefinition definition, bool allowUnknownType, IReadOnlyList<string> knownTypes, CancellationToken ct) =>
        Schedules.AddAsync(store, definition, allowUnknownType, knownTypes, ct);

    public async Task<IReadOnlyList<ScheduleView>> ScheduleListAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        return (await store.ScheduleListAsync(ct).ConfigureAwait(false)).Select(s => ScheduleView.From(s, now)).ToArray();
    }

    public async Task<ScheduleView> ScheduleGetAsync(string name, CancellationToken ct) =>
        ScheduleView.From(await store.ScheduleGetAsync(name, ct).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(name), DateTimeOffset.UtcNow);

    public Task ScheduleDeleteAsync(string name, CancellationToken ct) => store.ScheduleDeleteAsync(name, ct);
    public Task SchedulePauseAsync(string name, bool paused, CancellationToken ct) => store.SchedulePauseAsync(name, paused, ct);

    public async Task<ScheduleTriggerView> ScheduleTriggerAsync(string name, CancellationToken ct)
    {
        var (fireTime, jobId) = await Schedules.TriggerAsync(store, name, TimeProvider.System, ct).ConfigureAwait(false);
        return new ScheduleTriggerView(name, fireTime, jobId?.ToString());
    }

    public Task QueueRetentionSetAsync(QueueRetention retention, CancellationToken ct) => store.QueueRetentionSetAsync(retention, ct);

    public async Task<IReadOnlyList<QueueRetentionView>> QueueRetentionListAsync(CancellationToken ct) =>
        (await store.QueueRetentionListAsync(ct).ConfigureAwait(false)).Select(QueueRetentionView.From).ToArray();

    public ValueTask DisposeAsync() => store.DisposeAsync();
}
