namespace Gantry.Protocol;

/// <summary>Limits applied to submitted jobs, with their defaults.</summary>
public sealed record JobLimits
{
    public const int MaxPayloadBytesDefault = 1024 * 1024;
    public const int MaxBatchDefault = 10_000;
    public const int MaxDepthDefault = 64;

    /// <summary>Largest payload, as UTF-8 JSON text. Defaults to 1 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = MaxPayloadBytesDefault;
    /// <summary>Most jobs in one batch. Defaults to 10,000.</summary>
    public int MaxBatch { get; init; } = MaxBatchDefault;
    /// <summary>Deepest JSON nesting accepted. Defaults to 64.</summary>
    public int MaxDepth { get; init; } = MaxDepthDefault;

    public static readonly JobLimits Default = new();
}
