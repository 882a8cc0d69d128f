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

    /// <summary>The folders that hold the attempts' cgroups; the one that holds every process first.</summary>
    protected virtual IReadOnlyList<string> AttemptParents => [];

    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan UnownedAge = TimeSpan.FromMinutes(1);
    private long _lastSweep; // Environment.TickCount64 of the last sweep: 0 (boot) sweeps at once.

    /// <summary>
    /// <see cref="Sweep"/>, before an attempt of <paramref name="jobId"/> starts: at most once a
    /// second (a lease is longer, so what a dead owner left is gone before its jobs run here again),
    /// and every time a cgroup of an earlier attempt of the same job is there (a node retries the
    /// attempts of a worker it lost at once).
    /// </summary>
    public void SweepDeadOwners(Guid jobId)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastSweep);
        if (now - last < SweepEvery.TotalMilliseconds && !HasCgroupOf(jobId)) return;
        Interlocked.Exchange(ref _lastSweep, now);
        Sweep();
    }

    private bool HasCgroupOf(Guid jobId)
    {
        if (AttemptParents.Count == 0) return false;
        try
        {
            return Directory.EnumerateDirectories(AttemptParents[0], $"*-{jobId:N}-*").Any();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Kills what still runs in the cgroups of owners that are gone (a worker or node killed with
    /// SIGKILL leaves its attempts' grandchildren there) and removes those cgroups; removes empty
    /// cgroups that name no owner once they are a minute old (older versions left them behind).
    /// Cgroups of live owners, this process's included, are left alone. Returns how many were removed.
    /// </summary>
    public int Sweep()
    {
        var removed = 0;
        foreach (var parent in AttemptParents)
        {
            string[] dirs;
            try
            {
                dirs = Directory.GetDirectories(parent);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var dir in dirs)
            {
                switch (CgroupOwner.StateOf(Path.GetFileName(dir)))
                {
                    case OwnerState.Dead:
                        CgroupFiles.KillAndRemove(dir);
                        removed++;
                        break;
                    case OwnerState.Unknown when CgroupFiles.Read(Path.Combine(dir, "cgroup.procs")).Trim().Length == 0
                        && DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) > UnownedAge:
                        if (CgroupFiles.TryRemove(dir)) removed++;
                        break;
                }
            }
        }
        return removed;
    }

    private static readonly Lazy<SandboxFactory> Detected = new(Detect);

    public static SandboxFactory Current => Detected.Value;

    private static SandboxFactory Detect()
    {
        var factory = Find();
        factory.Sweep(); // At start: what killed owners left behind.
        return factory;
    }

    private static SandboxFactory Find()
    {
        if (Environment.GetEnvironmentVariable("GANTRY_ISOLATION") == "rlimit") return new RlimitSandboxFactory("GANTRY_ISOLATION=rlimit");
        if (CgroupV2SandboxFactory.TryCreate("/sys/fs/cgroup", out var v2)) return v2;
        if (CgroupV1SandboxFactory.TryCreate("/sys/fs/cgroup", out var v1)) return v1;
        return new RlimitSandboxFactory("no writable cgroup hierarchy with memory and pids controllers");
    }
}
