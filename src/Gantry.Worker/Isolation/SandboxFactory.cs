using Gantry.Worker.Handlers.Process;

namespace Gantry.Worker.Isolation;

/// <summary>
/// Finds how this machine can isolate a job: cgroup v2 where its controllers are available, else
/// the v1 memory, cpu and pids hierarchies, else rlimits (degraded: memory as address space, no
/// CPU share, and a process limit that root ignores).
/// </summary>
internal abstract class SandboxFactory
{
    /// <summary>How jobs are isolated, for the start-up log.</summary>
    public abstract string Description { get; }

    /// <summary>False when isolation is degraded to rlimits.</summary>
    public abstract bool IsCgroup { get; }

    public abstract IJobSandbox Create(string name, ProcessLimits limits);

    private static readonly Lazy<SandboxFactory> Detected = new(Detect);

    public static SandboxFactory Current => Detected.Value;

    private static SandboxFactory Detect()
    {
        if (Environment.GetEnvironmentVariable("GANTRY_ISOLATION") == "rlimit") return new RlimitSandboxFactory("GANTRY_ISOLATION=rlimit");
        if (CgroupV2SandboxFactory.TryCreate("/sys/fs/cgroup", out var v2)) return v2;
        if (CgroupV1SandboxFactory.TryCreate("/sys/fs/cgroup", out var v1)) return v1;
        return new RlimitSandboxFactory("no writable cgroup hierarchy with memory and pids controllers");
    }
}
