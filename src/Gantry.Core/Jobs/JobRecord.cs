namespace Gantry.Jobs;

/// <summary>A job as stored: what <c>jobs list</c> and <c>jobs show</c> display.</summary>
public sealed record JobRecord
{
    /// <summary>The job's id (a UUIDv7).</summary>
    public required Guid Id { get; init; }
    /// <summary>The job's type: which handler runs it.</summary>
    public required string Type { get; init; }
    /// <summary>The queue the job is in.</summary>
    public required string Queue { get; init; }
    /// <summary>The job's state now.</summary>
    public required JobState State { get; init; }
    /// <summary>Higher runs first within a queue.</summary>
    public int Priority { get; init; }
    /// <summary>The payload as JSON text.</summary>
    public string Payload { get; init; } = "{}";
    /// <summary>Attempts started so far (0 before the first claim).</summary>
    public int Attempt { get; init; }
    /// <summary>Most attempts the job gets.</summary>
    public int MaxAttempts { get; init; }
    /// <summary>How long one attempt may run, as the job set it; null when it set none (its type's or the worker's default applies).</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>The delay between attempts.</summary>
    public Backoff Backoff { get; init; } = Backoff.Default;
    /// <summary>When the job was enqueued.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When a scheduled job becomes due (its delay or retry backoff); null when it was never delayed.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>When the latest attempt started; null before the first.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job reached a terminal state; null until it has.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The worker holding (or that last held) the job.</summary>
    public string? WorkerId { get; init; }
    /// <summary>When the running attempt's lease ends unless renewed; null when not running.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }
    /// <summary>The key that made the job unique among its peers; null for none.</summary>
    public string? IdempotencyKey { get; init; }
    /// <summary>How long the idempotency key holds: until this time (the job's uniqueness window); null for as long as the job is kept.</summary>
    public DateTimeOffset? UniqueUntil { get; init; }
    /// <summary>The states in which the idempotency key holds; null for every state.</summary>
    public IReadOnlyList<JobState>? UniqueWhile { get; init; }
    /// <summary>The key that groups the job with others for its queue's per-key limits and fair turns; null for none.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>The job's tags; empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = NewJob.NoTags;
    /// <summary>Capabilities a worker must have to claim the job; empty for any worker.</summary>
    public IReadOnlyList<string> RequiredCapabilities { get; init; } = [];
    /// <summary>Percent done, 0–100, as last reported.</summary>
    public double? Progress { get; init; }
    /// <summary>The message of the last progress report; null for none.</summary>
    public string? ProgressMessage { get; init; }
    /// <summary>The handler's result as JSON text.</summary>
    public string? Result { get; init; }
    /// <summary>When a cancel of the running job was asked for; null when none was.</summary>
    public DateTimeOffset? CancelRequestedAt { get; init; }
    /// <summary>Size in bytes of the latest checkpoint, if any.</summary>
    public int? CheckpointSize { get; init; }
    /// <summary>When the latest checkpoint was saved; null without one.</summary>
    public DateTimeOffset? CheckpointAt { get; init; }
    /// <summary>The job's own checkpoint interval; null for its type's or the worker's.</summary>
    public TimeSpan? CheckpointInterval { get; init; }
    /// <summary>The job's own process limits; null for none.</summary>
    public ResourceLimits? Limits { get; init; }
    /// <summary>The workflow this job is a step of, and the step's name; null for a plain job.</summary>
    public Guid? WorkflowId { get; init; }
    /// <summary>The step's name in its workflow; null for a plain job.</summary>
    public string? Step { get; init; }
    /// <summary>The error of every failed attempt, oldest first (filled by single-job reads).</summary>
    public IReadOnlyList<JobAttemptError> Errors { get; init; } = [];
    /// <summary>What each process-handler attempt consumed and how it ended, oldest first (filled by single-job reads).</summary>
    public IReadOnlyList<JobAttemptUsage> Usage { get; init; } = [];
    /// <summary>The W3C trace context of the span that enqueued the job, when it was enqueued inside a trace.</summary>
    public string? TraceParent { get; init; }
    /// <summary>The W3C <c>tracestate</c> that came with <see cref="TraceParent"/>; null for none.</summary>
    public string? TraceState { get; init; }
}
