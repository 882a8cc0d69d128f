namespace Gantry.Worker.Isolation;

/// <summary>How this machine isolates process handlers, for start-up messages.</summary>
public static class ProcessIsolation
{
    /// <summary>How process handlers are isolated on this machine, in words (cgroup v2 with limits, or rlimits only).</summary>
    public static string Description => SandboxFactory.Current.Description;

    /// <summary>True when no cgroup can be made and limits fall back to rlimits.</summary>
    public static bool IsDegraded => !SandboxFactory.Current.IsCgroup;
}
