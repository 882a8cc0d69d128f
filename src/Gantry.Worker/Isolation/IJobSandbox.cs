namespace Gantry.Worker.Isolation;

/// <summary>
/// Where one attempt's process tree runs: a cgroup with its limits, or plain rlimits. The
/// launcher joins it before it starts the handler's program, so no child can escape.
/// </summary>
internal interface IJobSandbox : IDisposable
{
    /// <summary>Files the launcher writes its own pid to (cgroup.procs), before it execs the program.</summary>
    IReadOnlyList<string> JoinFiles { get; }

    /// <summary>Arguments for <c>prlimit</c> when limits are rlimits; empty otherwise.</summary>
    IReadOnlyList<string> RlimitArgs { get; }

    /// <summary>True when the tree ran into its memory limit.</summary>
    bool MemoryLimitHit();

    /// <summary>True when the tree ran into its process limit (a fork failed).</summary>
    bool PidsLimitHit();

    /// <summary>
    /// The tree's CPU time in seconds and its peak memory in bytes, read before the sandbox is
    /// removed; null where this sandbox cannot tell (the process's own accounting stands in).
    /// </summary>
    (double? CpuSeconds, long? PeakMemoryBytes) Usage();

    /// <summary>Kills every process still in the sandbox (a child that left the process group included).</summary>
    void KillAll();
}
