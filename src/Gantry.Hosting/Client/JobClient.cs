using System.Data.Common;
using System.Text.Json;
using Gantry.Hosting.Control;
using Gantry.Serialization;
using Gantry.Server.Submission;
using Gantry.Worker.Handlers;

namespace Gantry.Hosting.Client;

/// <summary>
/// <see cref="IJobClient"/> over the commands' one way to the coordinator (<see cref="IGantryControl"/>): the store, or a
/// server's HTTP API. Jobs become <see cref="JobDraft"/>s and are validated as every job document is; a transaction
/// goes to the store's enqueue with the application's transaction (<see cref="Submit.JobsAsync"/>).
/// </summary>
internal sealed class JobClient(Lazy<IGantryControl> controls, Func<IJobStore?> store, HandlerRegistry registry, TimeProvider time) : IJobClient
{
    private IGantryControl control => controls.Value;

    /// <summary>How long one wait lasts before the client asks again (a request to the server, a read of the store).</summary>
    private static readonly TimeSpan WaitRound = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    public async Task<Guid> EnqueueAsync(string type, object? payload, JobOptions? options = null, DbTransaction? transaction = null, CancellationToken ct = default) =>
        (await EnqueueBatchAsync([new JobRequest(type, payload, options)], transaction, ct).ConfigureAwait(false))[0];

    /// <inheritdoc/>
    public Task<Guid> EnqueueAsync<THandler>(object? payload, JobOptions? options = null, DbTransaction? transaction = null, CancellationToken ct = default)
        where THandler : class =>
        EnqueueAsync(TypeOf<THandler>(), payload, options, transaction, ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<Guid>> EnqueueBatchAsync(IEnumerable<JobRequest> jobs, DbTransaction? transaction = null, CancellationToken ct = default)
    {
        var list = jobs.ToArray();
        if (list.Length == 0) return [];
        if (list.Length > JobLimits.Default.MaxBatch)
            throw new InvalidInputException("jobs", $"holds {list.Length:N0} jobs, over the limit of {JobLimits.Default.MaxBatch:N0} per batch");
        var drafts = new (JobDraft Draft, NewJob Job)[list.Length];
        for (var i = 0; i < list.Length; i++)
        {
            var draft = Draft(list[i].Type, list[i].Payload, list[i].Options);
            drafts[i] = (draft, draft.Validate(JobLimits.Default, list.Length == 1 ? "" : $"jobs[{i}]", time));
        }
        var allowUnknown = list.All(j => j.Options?.AllowUnknownType == true);
        IReadOnlyList<JobEnqueueResult> results;
        if (transaction is null)
        {
            results = await control.JobSubmitAsync(drafts, allowUnknown, [.. registry.JobTypes], ct).ConfigureAwait(false);
        }
        else
        {
            var s = store() ?? throw new InvalidOperationException(
                "enqueueing in a transaction needs the store (Gantry:Store); this application talks to a Gantry server over HTTP, which cannot join a database transaction");
            results = await Submit.JobsAsync(s, drafts.Select(d => d.Job).ToArray(), allowUnknown, registry.JobTypes, ct, transaction).ConfigureAwait(false);
        }
        return results.Select(r => r.Id).ToArray();
    }

    /// <inheritdoc/>
    public async Task<EnqueuedWorkflow> EnqueueWorkflowAsync(WorkflowRequest workflow, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var draft = new WorkflowDraft
        {
            Name = workflow.Name,
            OnFailure = workflow.OnFailure,
            Steps = workflow.Steps.Select(s => new WorkflowStepDraft(s.Name, Draft(s.Type, s.Payload, s.Options), s.DependsOn ?? [])).ToArray(),
        };
        var validated = draft.Validate(JobLimits.Default, "", time);
        var allowUnknown = workflow.Steps.All(s => s.Options?.AllowUnknownType == true);
        var view = await control.WorkflowCreateAsync(validated, JobDocumentWriter.WriteWorkflow(draft), allowUnknown, [.. registry.JobTypes], ct).ConfigureAwait(false);
        return new EnqueuedWorkflow(Guid.Parse(view.Id), view.Steps.ToDictionary(s => s.Step, s => Guid.Parse(s.JobId), StringComparer.Ordinal));
    }

    /// <inheritdoc/>
    public Task<JobRecord?> GetAsync(Guid id, CancellationToken ct = default) => control.JobGetAsync(id, ct);

    /// <inheritdoc/>
    public async Task<JobRecord> WaitAsync(Guid id, CancellationToken ct = default)
    {
        while (true)
        {
            // Woken by the job's end: the store's signal, or the server's long poll (JobWaits), in rounds.
            var s = store();
            var job = (s is not null ? await JobWaits.UntilEndedAsync(s, id, WaitRound, time, ct).ConfigureAwait(false)
                : await control.JobWaitAsync(id, WaitRound, ct).ConfigureAwait(false)) ?? throw new JobNotFoundException(id.ToString());
            switch (job.State)
            {
                case JobState.Succeeded: return job;
                case JobState.Dead: throw new JobDeadException(job);
                case JobState.Cancelled: throw new JobCancelledException(job);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<T?> WaitAsync<T>(Guid id, CancellationToken ct = default)
    {
        var job = await WaitAsync(id, ct).ConfigureAwait(false);
        if (job.Result is null) return default;
        try
        {
            return JsonSerializer.Deserialize<T>(job.Result, GantryPayloadJson.Default);
        }
        catch (JsonException ex)
        {
            throw new GantryException($"job {id} ({job.Type}) succeeded, but its result does not read as {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public Task<JobCancelResult> CancelAsync(Guid id, CancellationToken ct = default) => control.JobCancelAsync(id, ct);

    /// <inheritdoc/>
    public Task RetryAsync(Guid id, CancellationToken ct = default) => control.JobRetryAsync(id, ct);

    private string TypeOf<THandler>() => registry.JobTypeOf(typeof(THandler))
        ?? throw new InvalidOperationException($"{typeof(THandler).Name} is registered for no job type: add it with AddGantry(…).AddHandler<{typeof(THandler).Name}>(\"type\")");

    /// <summary>A job as its document would describe it: the payload as JSON text, durations in seconds.</summary>
    private JobDraft Draft(string type, object? payload, JobOptions? o)
    {
        if (o?.RunAt is not null && o.Delay is not null) throw new InvalidInputException("run_at", "give a start time or a delay, not both");
        return new JobDraft
        {
            Type = type,
            Payload = payload is null ? null : JsonSerializer.Serialize(payload, payload.GetType(), GantryPayloadJson.Default),
            Queue = o?.Queue,
            Priority = o?.Priority,
            RunAt = o?.RunAt ?? (o?.Delay is { } delay ? JobDraft.StartAfter(time.GetUtcNow(), delay, "delay") : null),
            TimeoutSeconds = o?.Timeout?.TotalSeconds,
            MaxAttempts = o?.MaxAttempts,
            BackoffBaseSeconds = o?.BackoffBase?.TotalSeconds,
            BackoffMaxSeconds = o?.BackoffMax?.TotalSeconds,
            IdempotencyKey = o?.IdempotencyKey,
            UniqueForSeconds = o?.UniqueFor?.TotalSeconds,
            UniqueWhile = o?.UniqueWhile?.Select(JobStates.ToText).ToArray(),
            ConcurrencyKey = o?.ConcurrencyKey,
            Tags = o?.Tags,
            RequiredCapabilities = o?.RequiredCapabilities,
            CheckpointIntervalSeconds = o?.CheckpointInterval?.TotalSeconds,
        };
    }
}
