using System.Globalization;
using Gantry.Worker.Handlers.Process;

namespace Gantry.Worker.Isolation;

/// <summary>cgroup v2: one cgroup per job under <c>gantry/</c>, with memory.max, cpu.max and pids.max.</summary>
internal sealed class CgroupV2SandboxFactory : SandboxFactory
{
    private readonly string _parent;

    private CgroupV2SandboxFactory(string parent) => _parent = parent;

    public override string Description => "cgroup v2";
    public override bool IsCgroup => true;
    protected override IReadOnlyList<string> AttemptParents => [_parent];

    public static bool TryCreate(string root, out SandboxFactory factory)
    {
        factory = null!;
        var controllers = CgroupFiles.Read(Path.Combine(root, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!controllers.Contains("memory") || !controllers.Contains("pids") || !CgroupFiles.CanCreateUnder(root)) return false;
        var parent = Path.Combine(root, "gantry");
        try
        {
            Directory.CreateDirectory(parent);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        // Controllers must be enabled for children at each level (a cgroup with processes cannot do so: gantry/ has none).
        var wanted = controllers.Contains("cpu") ? "+memory +pids +cpu" : "+memory +pids";
        if (!CgroupFiles.TryWrite(Path.Combine(root, "cgroup.subtree_control"), wanted)) return false;
        if (!CgroupFiles.TryWrite(Path.Combine(parent, "cgroup.subtree_control"), wanted)) return false;
        factory = new CgroupV2SandboxFactory(parent);
        return true;
    }

    public override IJobSandbox Create(string name, ProcessLimits limits)
    {
        var dir = Path.Combine(_parent, name);
        Directory.CreateDirectory(dir);
        if (limits.MemoryMb is { } mb)
        {
            CgroupFiles.TryWrite(Path.Combine(dir, "memory.max"), (mb * 1024L * 1024).ToString(CultureInfo.InvariantCulture));
            CgroupFiles.TryWrite(Path.Combine(dir, "memory.swap.max"), "0");
        }
        if (limits.Processes is { } n) CgroupFiles.TryWrite(Path.Combine(dir, "pids.max"), n.ToString(CultureInfo.InvariantCulture));
        if (limits.Cpu is { } cores)
            CgroupFiles.TryWrite(Path.Combine(dir, "cpu.max"), $"{(long)Math.Max(1000, cores * 100_000)} 100000");
        return new Sandbox(dir);
    }

    private sealed class Sandbox(string dir) : IJobSandbox
    {
        public IReadOnlyList<string> JoinFiles { get; } = [Path.Combine(dir, "cgroup.procs")];
        public IReadOnlyList<string> RlimitArgs => [];
        public bool MemoryLimitHit() => CgroupFiles.KeyedValue(Path.Combine(dir, "memory.events"), "oom_kill") > 0
            || CgroupFiles.KeyedValue(Path.Combine(dir, "memory.events"), "max") > 0;
        public bool PidsLimitHit() => CgroupFiles.KeyedValue(Path.Combine(dir, "pids.events"), "max") > 0;

        // cpu.stat is there without the cpu controller; memory.peak since Linux 5.19.
        public (double? CpuSeconds, long? PeakMemoryBytes) Usage() =>
            (CgroupFiles.KeyedValueOrNull(Path.Combine(dir, "cpu.stat"), "usage_usec") / 1e6, CgroupFiles.NumberOrNull(Path.Combine(dir, "memory.peak")));

        public void KillAll() => CgroupFiles.KillAndRemove(dir);
        public void Dispose() => KillAll();
    }
}
