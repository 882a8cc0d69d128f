using System.Diagnostics.Metrics;
using System.Reflection;
using Gantry.Telemetry;

namespace Gantry.Core.Tests.Telemetry;

/// <summary>Every histogram advises buckets that fit its values, so that exporters do not fall back to their defaults.</summary>
public sealed class GantryMetricsTests
{
    private static IEnumerable<Histogram<double>> Histograms() =>
        typeof(GantryMetrics).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.GetValue(null)).OfType<Histogram<double>>();

    [Fact]
    public void Histograms_InSeconds_AdviseBucketsFrom100MicrosecondsTo5Minutes()
    {
        // Latencies and run times; an attempt's CPU time has buckets of its own (below).
        var seconds = Histograms().Where(h => h.Unit == "s" && h != GantryMetrics.AttemptCpu).ToArray();
        Assert.NotEmpty(seconds);
        foreach (var h in seconds)
        {
            var bounds = h.Advice?.HistogramBucketBoundaries;
            Assert.NotNull(bounds);
            Assert.Equal(0.0001, bounds[0]);
            Assert.Equal(300, bounds[^1]);
            Assert.Equal(bounds.Order(), bounds);
        }
    }

    [Fact]
    public void Histograms_OfJobs_AdviseCountBuckets()
    {
        var claimSize = Assert.Single(Histograms(), h => h.Unit == "{job}");
        Assert.Equal(GantryMetrics.CountBuckets, claimSize.Advice?.HistogramBucketBoundaries);
        Assert.Equal(1024, GantryMetrics.CountBuckets[^1]);
    }

    [Fact]
    public void Histograms_OfAttemptUsage_AdviseCpuAndMemoryBuckets()
    {
        Assert.Equal(GantryMetrics.CpuBuckets, GantryMetrics.AttemptCpu.Advice?.HistogramBucketBoundaries);
        Assert.Equal((0.01, 3600.0), (GantryMetrics.CpuBuckets[0], GantryMetrics.CpuBuckets[^1]));
        var memory = Assert.Single(Histograms(), h => h.Unit == "By");
        Assert.Equal(GantryMetrics.MemoryBuckets, memory.Advice?.HistogramBucketBoundaries);
        Assert.Equal((1 << 20, 16.0 * (1L << 30)), (GantryMetrics.MemoryBuckets[0], GantryMetrics.MemoryBuckets[^1]));
        Assert.Equal(GantryMetrics.MemoryBuckets.Order(), GantryMetrics.MemoryBuckets);
    }
}
