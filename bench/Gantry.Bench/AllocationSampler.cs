using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Gantry.Bench;

/// <summary>
/// Which types this process allocates, sampled by the runtime (its GC AllocationTick event, one per ~100 KB allocated,
/// naming the type of the object that crossed the mark): over a drain, each type's share of the samples is its share of
/// the bytes allocated, near enough to find the large allocations. On only while <see cref="Recording"/> is set.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    /// <summary>Samples are kept only while this is set.</summary>
    public volatile bool Recording;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick is at verbose level
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!Recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        _bytes.AddOrUpdate(type, amount, (_, n) => n + amount);
    }

    /// <summary>The types with the most bytes sampled, largest first, with their share of all sampled bytes.</summary>
    public IReadOnlyList<(string Type, double Share)> Top(int count)
    {
        var total = (double)Math.Max(1, _bytes.Values.Sum());
        return [.. _bytes.OrderByDescending(kv => kv.Value).Take(count).Select(kv => (kv.Key, Math.Round(kv.Value / total, 3)))];
    }
}
