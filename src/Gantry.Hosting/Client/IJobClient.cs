using System.Data.Common;

namespace Gantry;

/// <summary>
/// Enqueues jobs and follows them, from application code. Registered by <c>AddGantry</c>: over the store when
/// <c>Gantry:Store</c> is set, over a Gantry server's HTTP API when <c>Gantry:Server</c> is. Every job is checked by the
/// same rules as a job document given to <c>gantry submit</c> or <c>POST /api/v1/jobs</c>; a bad one throws
/// <see cref="InvalidInputException"/> naming the field. Its type must be known (a handler registered with
/// <c>AddHandler</c>, or served by a registered worker) unless <see cref="JobOptions.AllowUnknownType"/>.
/// </summary>
public interface IJobClient
{
    /// <summary>Enqueues one job and returns its id (the existing job's, when its idempotency key is taken in its queue).</summary>
    /// <param name="type">The job type, which names its handler.</param>
    /// <param name="payload">Serialized as the job's JSON payload (snake_case names, as handlers read them); null is <c>{}</c>.</param>
    /// <param name="transaction">The application's own open transaction on the store's database (Npgsql on PostgreSQL,
    /// Microsoft.Data.Sqlite on the same SQLite file): the job is inserted through it, exists only if it commits, and
    /// wakes workers at its commit. Not available over HTTP.</param>
    Task<Guid> EnqueueAsync(string type, object? payload, JobOptions? options = null, DbTransaction? transaction = null, CancellationToken ct = default);

    /// <summary>Enqueues one job of the type <typeparamref name="THandler"/> is registered for (<c>AddHandler&lt;THandler&gt;("type")</c>).</summary>
    Task<Guid> EnqueueAsync<THandler>(object? payload, JobOptions? options = null, DbTransaction? transaction = null, CancellationToken ct = default)
        where THandler : class;

    /// <summary>Enqueues a batch, all or none; the ids in the order of <paramref name="jobs"/>.</summary>
    Task<IReadOnlyList<Guid>> EnqueueBatchAsync(IEnumerable<JobRequest> jobs, DbTransaction? transaction = null, CancellationToken ct = default);

    /// <summary>Stores a workflow, every step or none (docs/workflows.md); its id and the job id of each step.</summary>
    Task<EnqueuedWorkflow> EnqueueWorkflowAsync(WorkflowRequest workflow, CancellationToken ct = default);

    /// <summary>The job as stored now; null when there is no such job.</summary>
    Task<JobRecord?> GetAsync(Guid id, CancellationToken ct = default);

    /// <summary>
    /// Waits until the job has finished and returns it when it succeeded. Throws <see cref="JobDeadException"/> when it
    /// ended dead (its attempts spent), <see cref="JobCancelledException"/> when it was cancelled, and
    /// <see cref="JobNotFoundException"/> when there is no such job.
    /// </summary>
    Task<JobRecord> WaitAsync(Guid id, CancellationToken ct = default);

    /// <summary>Waits as <see cref="WaitAsync(Guid, CancellationToken)"/> does and returns the handler's result read as
    /// <typeparamref name="T"/> (default when the handler returned none).</summary>
    Task<T?> WaitAsync<T>(Guid id, CancellationToken ct = default);

    /// <summary>Cancels a job: a waiting, scheduled or queued job ends at once, a running one is asked to stop.</summary>
    Task<JobCancelResult> CancelAsync(Guid id, CancellationToken ct = default);

    /// <summary>Puts a dead or cancelled job back to queued with a fresh set of attempts.</summary>
    Task RetryAsync(Guid id, CancellationToken ct = default);
}

/// <summary>How a job runs; every field is optional and has the same default and limits as in a job document.</summary>
public sealed record JobOptions
{
    /// <summary>The queue; defaults to <c>default</c>.</summary>
    public string? Queue { get; init; }
    /// <summary>Higher runs first within a queue. Defaults to 0.</summary>
    public int? Priority { get; init; }
    /// <summary>Not started before this time (the job is scheduled until then).</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>Not started before this delay has passed (<see cref="RunAt"/> from now; 0 to 100 years, <see cref="Gantry.Protocol.JobDraft.LongestDelay"/>); give one of the two.</summary>
    public TimeSpan? Delay { get; init; }
    /// <summary>How long one attempt may run.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Attempts before the job is dead. Defaults to 5.</summary>
    public int? MaxAttempts { get; init; }
    /// <summary>The first delay between attempts (doubling after each). Defaults to 1 second.</summary>
    public TimeSpan? BackoffBase { get; init; }
    /// <summary>The longest delay between attempts. Defaults to 1 hour.</summary>
    public TimeSpan? BackoffMax { get; init; }
    /// <summary>A second job with this key in the same queue is not created: its enqueue returns the first job's id.</summary>
    public string? IdempotencyKey { get; init; }
    /// <summary>How long the <see cref="IdempotencyKey"/> holds after the job is created (at least 1 second); after it,
    /// an enqueue with the key makes a new job ("at most once per hour"). Null: while the job is kept.</summary>
    public TimeSpan? UniqueFor { get; init; }
    /// <summary>The states in which the job holds its <see cref="IdempotencyKey"/> (e.g. queued and running: "at most
    /// one pending"); once it is in another, an enqueue with the key makes a new job. Null: every state.</summary>
    public IReadOnlyList<JobState>? UniqueWhile { get; init; }
    /// <summary>Groups the job for its queue's per-key limit and fair turns (a tenant, a customer; docs/flow-control.md).
    /// Null: the job goes with the others that have none.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>Tags for the job (filters in lists and bulk actions).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>Only a worker advertising all of these runs the job.</summary>
    public IReadOnlyList<string>? RequiredCapabilities { get; init; }
    /// <summary>How often a checkpointing handler is asked for its state.</summary>
    public TimeSpan? CheckpointInterval { get; init; }
    /// <summary>Enqueue even when no handler of the type is registered here or served by a registered worker (a worker started later).</summary>
    public bool AllowUnknownType { get; init; }
}

/// <summary>One job of a batch.</summary>
/// <param name="Type">The job type, which names its handler.</param>
/// <param name="Payload">The payload, written as JSON (snake_case); null for <c>{}</c>.</param>
/// <param name="Options">Its queue, priority, timing and other options; null for the defaults.</param>
public sealed record JobRequest(string Type, object? Payload, JobOptions? Options = null);

/// <summary>A workflow: named steps, each a job that may depend on others (docs/workflows.md).</summary>
/// <param name="Name">A name for people.</param>
/// <param name="Steps">Its steps; together they must form a graph without cycles.</param>
public sealed record WorkflowRequest(string Name, IReadOnlyList<WorkflowStepRequest> Steps)
{
    /// <summary>When a step fails for good: <c>cancel</c> (the default) stops the whole workflow, <c>continue</c> only the steps downstream.</summary>
    public string? OnFailure { get; init; }
}

/// <summary>A step of a workflow: its name, its job and the steps it waits for.</summary>
/// <param name="Name">The step's name, unique in its workflow.</param>
/// <param name="Type">Its job type.</param>
/// <param name="Payload">Its job's payload, written as JSON; null for <c>{}</c>.</param>
/// <param name="DependsOn">The steps that must succeed before it starts; null or empty for none.</param>
/// <param name="Options">Its job's options; null for the defaults.</param>
public sealed record WorkflowStepRequest(string Name, string Type, object? Payload, IReadOnlyList<string>? DependsOn = null, JobOptions? Options = null);

/// <summary>A stored workflow: its id and the job id of each step by name.</summary>
/// <param name="Id">The workflow's id.</param>
/// <param name="Steps">Each step's job id, by step name.</param>
public sealed record EnqueuedWorkflow(Guid Id, IReadOnlyDictionary<string, Guid> Steps);

/// <summary>A job waited for ended dead: its attempts are spent (or its handler failed it for good).</summary>
/// <param name="job">The job as it ended.</param>
public sealed class JobDeadException(JobRecord job)
    : GantryException($"job {job.Id} ({job.Type}) failed after {job.Attempt} attempt{(job.Attempt == 1 ? "" : "s")}{(job.Errors.Count > 0 ? ": " + job.Errors[^1].Error.Message : "")}")
{
    /// <summary>The job as it ended, with the error of each failed attempt.</summary>
    public JobRecord Job { get; } = job;
}

/// <summary>A job waited for was cancelled.</summary>
/// <param name="job">The job as it ended.</param>
public sealed class JobCancelledException(JobRecord job) : GantryException($"job {job.Id} ({job.Type}) was cancelled")
{
    /// <summary>The job as it ended.</summary>
    public JobRecord Job { get; } = job;
}
