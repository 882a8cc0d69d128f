namespace Gantry.Jobs;

/// <summary>A job as stored: what <c>jobs list</c> and <c>jobs show</c> display.</summary>
public sealed record JobRecord
{
    public required Guid Id { get; init; }
    public required string Type { get; init; }
    public required string Queue { get; init; }
    public required JobState State { get; init; }
    public int Priority { get; init; }
    public string Payload { get; init; } = "{}";
    /// <summary>Attempts started so far (0 before the first claim).</summary>
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    public TimeSpan? Timeout { get; init; }
    public Backoff Backoff { get; init; } = Backoff.Default;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The worker holding (or that last held) the job.</summary>
    public string? WorkerId { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public string? IdempotencyKey { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = NewJob.NoTags;
    public IReadOnlyList<string> RequiredCapabilities { get; init; } = [];
    /// <summary>Percent done, 0–100, as last reported.</summary>
    public double? Progress { get; init; }
    public string? ProgressMessage { get; init; }
    /// <summary>The handler's result as JSON text.</summary>
    public string? Result { get; init; }
    public DateTimeOffset? CancelRequestedAt { get; init; }
    /// <summary>Size in bytes of the latest checkpoint, if any.</summary>
    public int? CheckpointSize { get; init; }
    public DateTimeOffset? CheckpointAt { get; init; }
    public TimeSpan? CheckpointInterval { get; init; }
    /// <summary>The job's own process limits; null for none.</summary>
    public ResourceLimits? Limits { get; init; }
    /// <summary>The workflow this job is a step of, and the step's name; null for a plain job.</summary>
    public Guid? WorkflowId { get; init; }
    public string? Step { get; init; }
    /// <summary>The error of every failed attempt, oldest first (filled by single-job reads).</summary>
    public IReadOnlyList<JobAttemptError> Errors { get; init; } = [];
    /// <summary>What each process-handler attempt consumed and how it ended, oldest first (filled by single-job reads).</summary>
    public IReadOnlyList<JobAttemptUsage> Usage { get; init; } = [];
    /// <summary>The W3C trace context of the span that enqueued the job, when it was enqueued inside a trace.</summary>
    public string? TraceParent { get; init; }
    public string? TraceState { get; init; }
}
