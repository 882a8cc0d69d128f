namespace Gantry.Protocol;

/// <summary>Limits applied to submitted jobs, with their defaults.</summary>
public sealed record JobLimits
{
    /// <summary>The default <see cref="MaxPayloadBytes"/>: 1 MiB.</summary>
    public const int MaxPayloadBytesDefault = 1024 * 1024;
    /// <summary>The default <see cref="MaxBatch"/>: 10,000.</summary>
    public const int MaxBatchDefault = 10_000;
    /// <summary>The default <see cref="MaxDepth"/>: 64.</summary>
    public const int MaxDepthDefault = 64;
    /// <summary>
    /// How deep the JSON of a message that carries a job's JSON may nest (a job view or a list of them, a workflow's steps,
    /// a worker's report, a fetch answer with dependency results): a payload or result as deep as
    /// <see cref="MaxDepthDefault"/> inside the message's own fields. Every reader and writer of such messages uses it.
    /// </summary>
    public const int MaxMessageDepth = MaxDepthDefault + 8;

    /// <summary>Largest payload, as UTF-8 JSON text. Defaults to 1 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = MaxPayloadBytesDefault;
    /// <summary>Most jobs in one batch. Defaults to 10,000.</summary>
    public int MaxBatch { get; init; } = MaxBatchDefault;
    /// <summary>Deepest JSON nesting accepted. Defaults to 64.</summary>
    public int MaxDepth { get; init; } = MaxDepthDefault;
    /// <summary>
    /// The process limits of the job types this submitter knows (process handlers, after the configuration's
    /// defaults): a job's <c>limits</c> wider than its type's are refused. Types not here are not checked.
    /// </summary>
    public IReadOnlyDictionary<string, Gantry.Jobs.ResourceLimits> TypeLimits { get; init; } = NoTypeLimits;

    private static readonly IReadOnlyDictionary<string, Gantry.Jobs.ResourceLimits> NoTypeLimits = new Dictionary<string, Gantry.Jobs.ResourceLimits>();

    /// <summary>Every limit at its default, no type limits.</summary>
    public static readonly JobLimits Default = new();

    /// <summary>Refuses a limit that would turn every job away; runs with the options that carry the limits.</summary>
    public void Validate()
    {
        if (MaxPayloadBytes < 1) throw new InvalidInputException("max payload bytes", $"must be at least 1, got {MaxPayloadBytes}");
        if (MaxBatch < 1) throw new InvalidInputException("max batch", $"must be at least 1, got {MaxBatch}");
        if (MaxDepth < 1) throw new InvalidInputException("max depth", $"must be at least 1, got {MaxDepth}");
    }
}
