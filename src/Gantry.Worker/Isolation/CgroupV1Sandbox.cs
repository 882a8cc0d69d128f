using System.Globalization;
using Gantry.Worker.Handlers.Process;

namespace Gantry.Worker.Isolation;

/// <summary>cgroup v1: one cgroup per job in each of the memory, cpu, cpuacct and pids hierarchies (cpu only for a CPU limit).</summary>
internal sealed class CgroupV1SandboxFactory : SandboxFactory
{
    private readonly string _memory, _cpu, _pids, _cpuacct;

    private CgroupV1SandboxFactory(string memory, string cpu, string pids, string cpuacct) => (_memory, _cpu, _pids, _cpuacct) = (memory, cpu, pids, cpuacct);

    public override string Description => "cgroup v1 (memory, cpu, pids)";
    public override bool IsCgroup => true;
    protected override IReadOnlyList<string> AttemptParents => new[] { _pids, _memory, _cpu, _cpuacct }.Where(p => p.Length > 0).ToArray();

    public static bool TryCreate(string root, out SandboxFactory factory)
    {
        factory = null!;
        string Gantry(string controller) => Path.Combine(root, controller, "gantry");
        var memory = Path.Combine(root, "memory");
        var cpu = Path.Combine(root, "cpu");
        var pids = Path.Combine(root, "pids");
        if (!File.Exists(Path.Combine(memory, "memory.limit_in_bytes")) || !File.Exists(Path.Combine(pids, "cgroup.procs"))) return false;
        foreach (var dir in new[] { memory, pids })
            if (!CgroupFiles.CanCreateUnder(dir)) return false;
        var cpuUsable = File.Exists(Path.Combine(cpu, "cpu.cfs_quota_us")) && CgroupFiles.CanCreateUnder(cpu);
        // CPU time is accounted by cpuacct: a hierarchy of its own, or mounted with cpu ("cpu,cpuacct", reached by either name).
        var cpuacct = Path.Combine(root, "cpuacct");
        var cpuacctUsable = File.Exists(Path.Combine(cpuacct, "cpuacct.usage")) && CgroupFiles.CanCreateUnder(cpuacct);
        try
        {
            Directory.CreateDirectory(Gantry("memory"));
            Directory.CreateDirectory(Gantry("pids"));
            if (cpuUsable) Directory.CreateDirectory(Gantry("cpu"));
            if (cpuacctUsable) Directory.CreateDirectory(Gantry("cpuacct"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        // Co-mounted with cpu, the two names are one hierarchy: one cgroup there serves both.
        var sameAsCpu = cpuUsable && cpuacctUsable && File.Exists(Path.Combine(Gantry("cpu"), "cpuacct.usage"));
        factory = new CgroupV1SandboxFactory(Gantry("memory"), cpuUsable ? Gantry("cpu") : "", Gantry("pids"),
            cpuacctUsable && !sameAsCpu ? Gantry("cpuacct") : "");
        return true;
    }

    public override IJobSandbox Create(string name, ProcessLimits limits)
    {
        var dirs = new List<string>();
        string Make(string parent)
        {
            var dir = Path.Combine(parent, name);
            Directory.CreateDirectory(dir);
            dirs.Add(dir);
            return dir;
        }
        var memory = Make(_memory);
        var pids = Make(_pids);
        if (limits.MemoryMb is { } mb)
        {
            CgroupFiles.TryWrite(Path.Combine(memory, "memory.limit_in_bytes"), (mb * 1024L * 1024).ToString(CultureInfo.InvariantCulture));
            // Without swap limits a tree could page out instead of failing; where the file exists, hold swap too.
            CgroupFiles.TryWrite(Path.Combine(memory, "memory.memsw.limit_in_bytes"), (mb * 1024L * 1024).ToString(CultureInfo.InvariantCulture));
        }
        if (limits.Processes is { } n) CgroupFiles.TryWrite(Path.Combine(pids, "pids.max"), n.ToString(CultureInfo.InvariantCulture));
        var accounting = _cpuacct.Length > 0 ? Make(_cpuacct) : null;
        if (_cpu.Length > 0 && (limits.Cpu is not null || accounting is null))
        {
            var cpu = Make(_cpu);
            accounting ??= cpu;
            if (limits.Cpu is { } cores)
            {
                CgroupFiles.TryWrite(Path.Combine(cpu, "cpu.cfs_period_us"), "100000");
                CgroupFiles.TryWrite(Path.Combine(cpu, "cpu.cfs_quota_us"), ((long)Math.Max(1000, cores * 100_000)).ToString(CultureInfo.InvariantCulture));
            }
        }
        return new Sandbox(dirs, memory, pids, accounting);
    }

    private sealed class Sandbox(List<string> dirs, string memory, string pids, string? accounting) : IJobSandbox
    {
        public IReadOnlyList<string> JoinFiles { get; } = dirs.Select(d => Path.Combine(d, "cgroup.procs")).ToArray();
        public IReadOnlyList<string> RlimitArgs => [];

        public bool MemoryLimitHit() =>
            CgroupFiles.KeyedValue(Path.Combine(memory, "memory.oom_control"), "oom_kill") > 0
            || long.TryParse(CgroupFiles.Read(Path.Combine(memory, "memory.failcnt")).Trim(), out var failures) && failures > 0;

        public bool PidsLimitHit() => CgroupFiles.KeyedValue(Path.Combine(pids, "pids.events"), "max") > 0;

        public (double? CpuSeconds, long? PeakMemoryBytes) Usage() =>
            (accounting is null ? null : CgroupFiles.NumberOrNull(Path.Combine(accounting, "cpuacct.usage")) / 1e9,
             CgroupFiles.NumberOrNull(Path.Combine(memory, "memory.max_usage_in_bytes")));

        public void KillAll()
        {
            // The pids hierarchy holds every process of the tree; kill there, then remove them all.
            CgroupFiles.KillAndRemove(pids);
            foreach (var dir in dirs.Where(d => d != pids)) CgroupFiles.KillAndRemove(dir);
        }

        public void Dispose() => KillAll();
    }
}
