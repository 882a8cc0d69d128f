using System.Text.Json;

namespace Gantry.Server.Api;

/// <summary>
/// A job document as <c>POST /api/v1/jobs</c> takes it, for the OpenAPI document (the endpoint reads
/// the body itself, through <see cref="Gantry.Protocol.JobDocumentReader"/>, which is the rule).
/// </summary>
internal record JobDocument
{
    /// <summary>The job type: names its handler.</summary>
    public required string Type { get; init; }
    /// <summary>Any JSON value, given to the handler.</summary>
    public JsonElement? Payload { get; init; }
    public string? Queue { get; init; }
    public int? Priority { get; init; }
    /// <summary>Run no earlier than this (ISO 8601).</summary>
    public DateTimeOffset? RunAt { get; init; }
    public double? TimeoutSeconds { get; init; }
    public int? MaxAttempts { get; init; }
    /// <summary>A second submission with the same key returns the first job (200, existing).</summary>
    public string? IdempotencyKey { get; init; }
    public BackoffDocument? Backoff { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public IReadOnlyList<string>? RequiredCapabilities { get; init; }
    public double? CheckpointIntervalSeconds { get; init; }
    /// <summary>Groups the job for its queue's per-key limit and fair turns (docs/flow-control.md).</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>Seconds the idempotency key holds after the job is created.</summary>
    public double? UniqueFor { get; init; }
    /// <summary>The job states in which the idempotency key holds.</summary>
    public IReadOnlyList<string>? UniqueWhile { get; init; }
    /// <summary>Process limits of the job's own (memory_mb, cpu, processes): tighter than its type's, never wider (docs/process-handlers.md).</summary>
    public Gantry.Jobs.ResourceLimits? Limits { get; init; }
}

internal sealed record BackoffDocument(double? BaseSeconds, double? MaxSeconds);

/// <summary>A workflow document as <c>POST /api/v1/workflows</c> takes it: named steps, each a job document with <c>depends_on</c>.</summary>
internal sealed record WorkflowDocument
{
    public required string Name { get; init; }
    /// <summary>cancel (the default: stop the whole workflow) or continue (stop only the steps downstream).</summary>
    public string? OnFailure { get; init; }
    public required IReadOnlyDictionary<string, WorkflowStepDocument> Steps { get; init; }
}

/// <summary>A step of a workflow document: a job document with the steps it waits for.</summary>
internal sealed record WorkflowStepDocument : JobDocument
{
    /// <summary>The names of the steps that must succeed before this one is queued.</summary>
    public IReadOnlyList<string>? DependsOn { get; init; }
}

/// <summary>A command sent to a worker (202).</summary>
internal sealed record WorkerCommandView(string Id, string Command);

/// <summary><c>/health/live</c> and <c>/health/ready</c>; <c>store</c> only for a caller who may read the API.</summary>
internal sealed record HealthView(string Status, string? Store = null);
