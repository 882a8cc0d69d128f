namespace Gantry.Jobs;

/// <summary>A validated job ready to be enqueued. Build one with <see cref="Protocol.JobDraft"/>.</summary>
public sealed record NewJob
{
    /// <summary>The queue a job goes to when it names none: <c>default</c>.</summary>
    public static readonly string DefaultQueue = "default";
    /// <summary>The default <see cref="MaxAttempts"/>: 5.</summary>
    public const int MaxAttemptsDefault = 5;

    /// <summary>The job's id: make it with <see cref="JobIds.New"/>.</summary>
    public required Guid Id { get; init; }
    /// <summary>The job's type: which handler runs it.</summary>
    public required string Type { get; init; }
    /// <summary>The payload as JSON text.</summary>
    public string Payload { get; init; } = "{}";
    /// <summary>The queue the job goes to. Defaults to <see cref="DefaultQueue"/>.</summary>
    public string Queue { get; init; } = DefaultQueue;
    /// <summary>Higher runs first within a queue; equal priorities run oldest first.</summary>
    public int Priority { get; init; }
    /// <summary>When set in the future, the job is scheduled and not started before it.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>How long one attempt may run; null (the default): its type's or the worker's default, else none.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Most attempts the job gets, the first included. Defaults to 5.</summary>
    public int MaxAttempts { get; init; } = MaxAttemptsDefault;
    /// <summary>The delay between attempts. Defaults to <see cref="Backoff.Default"/>.</summary>
    public Backoff Backoff { get; init; } = Backoff.Default;
    /// <summary>Makes the job unique: an enqueue with a key a kept job holds returns that job instead (see <see cref="UniqueFor"/>, <see cref="UniqueWhile"/>); null for none.</summary>
    public string? IdempotencyKey { get; init; }
    /// <summary>How long the idempotency key holds after the job is created; null: for as long as the job is retained.</summary>
    public TimeSpan? UniqueFor { get; init; }
    /// <summary>The states in which the idempotency key holds; null: every state.</summary>
    public IReadOnlyList<JobState>? UniqueWhile { get; init; }
    /// <summary>Groups jobs for a queue's per-key limit and fair turns (a tenant, a customer); null: no key.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>Free-form key/value labels, shown and filtered on; none by default.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = NoTags;
    /// <summary>Capabilities a worker must all have to claim the job; none by default.</summary>
    public IReadOnlyList<string> RequiredCapabilities { get; init; } = [];
    /// <summary>How often the runtime asks a checkpointing handler for its state; null: the type's or worker's default.</summary>
    public TimeSpan? CheckpointInterval { get; init; }
    /// <summary>The job's own process limits, tightening its type's; null: the type's alone.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>The empty tag set, shared.</summary>
    public static readonly IReadOnlyDictionary<string, string> NoTags = new Dictionary<string, string>();
}
