namespace Gantry.Bench;

/// <summary>What <c>gantry bench --json</c> prints.</summary>
public sealed record BenchResult
{
    public required string Store { get; init; }
    /// <summary>The worker's link to the coordinator during the drain: store, or http.</summary>
    public string Link { get; init; } = "store";
    public required int Jobs { get; init; }
    public required int Concurrency { get; init; }
    public required double EnqueueJobsPerSecond { get; init; }
    public required double JobsPerSecond { get; init; }
    public required double DrainSeconds { get; init; }
    /// <summary>Backlogs drained one after another (<c>--rounds</c>); <see cref="JobsPerSecond"/> and <see cref="DrainSeconds"/> are their median, and each one's figure is listed in order.</summary>
    public int Rounds { get; init; } = 1;
    public double[] RoundsJobsPerSecond { get; init; } = [];
    /// <summary>With <c>--raw</c>: the minimal batched loop (bench/RawPostgresLoop) on the same database, once per round
    /// beside the round's drain (median, and each in order), and the median over rounds of drain / raw loop.</summary>
    public double? RawJobsPerSecond { get; init; }
    public double[] RawRoundsJobsPerSecond { get; init; } = [];
    public double? RawRatio { get; init; }
    public required int LatencySamples { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double LatencyMaxMs { get; init; }
    /// <summary>Pickup latency measured again right after the drain, on the queue just drained.</summary>
    public double AfterDrainLatencyP50Ms { get; init; }
    public double AfterDrainLatencyP99Ms { get; init; }
    /// <summary>Of the pickup latency, the part spent in the enqueue call itself (committed, before the worker is woken).</summary>
    public double EnqueueCallP50Ms { get; init; }
    /// <summary>Claim calls that returned jobs during the drain, and their latency as the worker saw it.</summary>
    public int Claims { get; init; }
    public double ClaimP50Ms { get; init; }
    public double ClaimP99Ms { get; init; }
    /// <summary>Report batches written during the drain, and their latency.</summary>
    public int ReportBatches { get; init; }
    public double ReportP50Ms { get; init; }
    public double ReportP99Ms { get; init; }
    /// <summary>CPU this process spent per job while enqueueing and while draining (all its threads; the database server's own CPU is not included).</summary>
    public double EnqueueCpuUsPerJob { get; init; }
    public double DrainCpuUsPerJob { get; init; }
    /// <summary>Managed memory this process allocated per job while draining, and the garbage collections meanwhile.</summary>
    public long DrainAllocatedBytesPerJob { get; init; }
    public int DrainGcs { get; init; }
    /// <summary>Time the JIT spent compiling during the drain (all threads), and the jobs run to warm up before it.</summary>
    public double DrainJitMs { get; init; }
    public int WarmupJobs { get; init; }
    /// <summary>With GANTRY_BENCH_ALLOCATIONS=1: the types the drains allocated most, by share of the bytes (sampled).</summary>
    public AllocationShare[]? DrainAllocations { get; init; }
    public required string Machine { get; init; }
}

/// <summary>A type's share of the bytes a drain allocated.</summary>
public sealed record AllocationShare(string Type, double Share);
