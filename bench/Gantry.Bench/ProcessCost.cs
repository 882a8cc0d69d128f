using System.Diagnostics;

namespace Gantry.Bench;

/// <summary>What this process spent between <see cref="Start"/> and <see cref="Stop"/>: CPU (all threads), managed allocations, gen0 collections, JIT time.</summary>
internal readonly record struct ProcessCost(TimeSpan Cpu, long AllocatedBytes, int Gen0Collections, TimeSpan Jit)
{
    private static ProcessCost Read() => new(Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(),
        GC.CollectionCount(0), System.Runtime.JitInfo.GetCompilationTime());

    public static ProcessCost Start() => Read();

    /// <summary>The cost since this reading.</summary>
    public ProcessCost Stop()
    {
        var now = Read();
        return new(now.Cpu - Cpu, now.AllocatedBytes - AllocatedBytes, now.Gen0Collections - Gen0Collections, now.Jit - Jit);
    }

    public static ProcessCost operator +(ProcessCost a, ProcessCost b) =>
        new(a.Cpu + b.Cpu, a.AllocatedBytes + b.AllocatedBytes, a.Gen0Collections + b.Gen0Collections, a.Jit + b.Jit);
}
