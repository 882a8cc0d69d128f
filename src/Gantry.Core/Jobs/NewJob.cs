namespace Gantry.Jobs;

/// <summary>A validated job ready to be enqueued. Build one with <see cref="Protocol.JobDraft"/>.</summary>
public sealed record NewJob
{
    public static readonly string DefaultQueue = "default";
    public const int MaxAttemptsDefault = 5;

    public required Guid Id { get; init; }
    public required string Type { get; init; }
    /// <summary>The payload as JSON text.</summary>
    public string Payload { get; init; } = "{}";
    public string Queue { get; init; } = DefaultQueue;
    /// <summary>Higher runs first within a queue; equal priorities run oldest first.</summary>
    public int Priority { get; init; }
    /// <summary>When set in the future, the job is scheduled and not started before it.</summary>
    public DateTimeOffset? RunAt { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int MaxAttempts { get; init; } = MaxAttemptsDefault;
    public Backoff Backoff { get; init; } = Backoff.Default;
    public string? IdempotencyKey { get; init; }
    /// <summary>How long the idempotency key holds after the job is created; null: for as long as the job is retained.</summary>
    public TimeSpan? UniqueFor { get; init; }
    /// <summary>The states in which the idempotency key holds; null: every state.</summary>
    public IReadOnlyList<JobState>? UniqueWhile { get; init; }
    /// <summary>Groups jobs for a queue's per-key limit and fair turns (a tenant, a customer); null: no key.</summary>
    public string? ConcurrencyKey { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = NoTags;
    public IReadOnlyList<string> RequiredCapabilities { get; init; } = [];
    /// <summary>How often the runtime asks a checkpointing handler for its state; null: the type's or worker's default.</summary>
    public TimeSpan? CheckpointInterval { get; init; }
    /// <summary>The job's own process limits, tightening its type's; null: the type's alone.</summary>
    public ResourceLimits? Limits { get; init; }

    public static readonly IReadOnlyDictionary<string, string> NoTags = new Dictionary<string, string>();
}
