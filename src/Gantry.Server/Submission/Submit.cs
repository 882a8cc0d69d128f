using Gantry.Jobs;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Telemetry;
using Gantry.Workflows;

namespace Gantry.Server.Submission;

/// <summary>
/// A validated submission's way into the store, the same from the API, the jobs directory and the CLI
/// on a store: its job types checked (unless the submitter allows unknown ones), then stored all at once.
/// </summary>
public static class Submit
{
    /// <summary>Enqueues <paramref name="jobs"/>, all or none, and counts those that are new. Concurrent calls on one store
    /// without a transaction or idempotency keys share an insert (<see cref="EnqueueGroup"/>).</summary>
    /// <param name="transaction">The application's own transaction to enqueue in (see <see cref="JobEnqueueParams.Transaction"/>), or null.</param>
    public static async Task<IReadOnlyList<JobEnqueueResult>> JobsAsync(IJobStore store, IReadOnlyList<NewJob> jobs, bool allowUnknownTypes,
        IEnumerable<string> knownTypes, CancellationToken ct, System.Data.Common.DbTransaction? transaction = null)
    {
        if (!allowUnknownTypes) await KnownJobTypes.CheckAsync(store, jobs, knownTypes, ct).ConfigureAwait(false);
        // Without an application's transaction, concurrent submits of jobs without keys share one insert (EnqueueGroup).
        var results = transaction is null && EnqueueGroup.Takes(jobs)
            ? await EnqueueGroup.For(store).EnqueueAsync(jobs, ct).ConfigureAwait(false)
            : await store.JobEnqueueManyAsync(new JobEnqueueParams(jobs) { Transaction = transaction }, ct).ConfigureAwait(false);
        // An existing job returned for its idempotency key is not new.
        for (var i = 0; i < results.Count; i++)
            if (!results[i].Existing) GantryMetrics.JobsSubmitted.Add(1, new KeyValuePair<string, object?>("queue", jobs[i].Queue));
        return results;
    }

    /// <summary>Stores <paramref name="workflow"/>, every step or none.</summary>
    public static async Task<WorkflowSubmitView> WorkflowAsync(IJobStore store, NewWorkflow workflow, bool allowUnknownTypes,
        IEnumerable<string> knownTypes, CancellationToken ct)
    {
        if (!allowUnknownTypes) await KnownJobTypes.CheckAsync(store, workflow.Steps.Select(s => s.Job), knownTypes, ct).ConfigureAwait(false);
        return WorkflowSubmitView.From(workflow, await store.WorkflowCreateAsync(new WorkflowCreateParams(workflow), ct).ConfigureAwait(false));
    }
}
