using Gantry.Jobs;
using Gantry.Protocol;
using Gantry.Server.Api;
using Gantry.Server.Submission;
using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Cli.Remote;

/// <summary>The commands straight on a store (<c>--store</c>, <c>--db</c>).</summary>
internal sealed class StoreControl(IJobStore store) : IGantryControl
{
    public string Description => store.Description;

    public Task<IReadOnlyList<JobEnqueueResult>> JobSubmitAsync(IReadOnlyList<(JobDraft Draft, NewJob Job)> jobs, bool allowUnknownTypes,
        IReadOnlyList<string> knownTypes, CancellationToken ct)
        => Submit.JobsAsync(store, jobs.Select(j => j.Job).ToArray(), allowUnknownTypes, knownTypes, ct);

    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => store.JobGetAsync(id, ct);
    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => store.JobListAsync(p, ct);
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => store.JobCancelAsync(id, ct);
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

    public ValueTask DisposeAsync() => store.DisposeAsync();
}
