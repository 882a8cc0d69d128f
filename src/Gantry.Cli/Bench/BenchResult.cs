namespace Gantry.Cli.Bench;

/// <summary>What <c>gantry bench --json</c> prints.</summary>
internal sealed record BenchResult
{
    public required string Store { get; init; }
    public required int Jobs { get; init; }
    public required int Concurrency { get; init; }
    public required double EnqueueJobsPerSecond { get; init; }
    public required double JobsPerSecond { get; init; }
    public required double DrainSeconds { get; init; }
    public required int LatencySamples { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double LatencyMaxMs { get; init; }
    public required string Machine { get; init; }
}
