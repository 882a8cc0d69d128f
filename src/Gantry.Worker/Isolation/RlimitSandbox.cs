using System.Globalization;
using Gantry.Worker.Handlers.Process;

namespace Gantry.Worker.Isolation;

/// <summary>
/// The fallback where no cgroup can be made: limits set with <c>prlimit</c> on the program itself.
/// Memory becomes an address-space limit, CPU share cannot be expressed, and the process limit
/// counts all of the user's processes (and binds nobody running as root). Start-up warns of it.
/// </summary>
internal sealed class RlimitSandboxFactory(string why) : SandboxFactory
{
    public override string Description => $"rlimits only ({why}): isolation is degraded";
    public override bool IsCgroup => false;

    public override IJobSandbox Create(string name, ProcessLimits limits)
    {
        var args = new List<string>();
        if (limits.MemoryMb is { } mb) args.Add($"--as={(mb * 1024L * 1024).ToString(CultureInfo.InvariantCulture)}");
        if (limits.Processes is { } n) args.Add($"--nproc={n.ToString(CultureInfo.InvariantCulture)}");
        return new Sandbox(args);
    }

    private sealed class Sandbox(List<string> args) : IJobSandbox
    {
        public IReadOnlyList<string> JoinFiles => [];
        public IReadOnlyList<string> RlimitArgs => args;
        // An address-space limit makes allocations fail inside the program; its own error says so.
        public bool MemoryLimitHit() => false;
        public bool PidsLimitHit() => false;
        public (double? CpuSeconds, long? PeakMemoryBytes) Usage() => (null, null);
        public void KillAll() { }
        public void Dispose() { }
    }
}
