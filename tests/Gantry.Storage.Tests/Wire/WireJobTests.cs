using System.Text.Json;
using Gantry.Protocol.Wire;
using Gantry.Storage;

namespace Gantry.Storage.Tests.Wire;

/// <summary>A claimed job through the worker protocol's JSON and back: a workflow step keeps its dependencies' results.</summary>
public sealed class WireJobTests
{
    private static ClaimedJob Claimed(IReadOnlyDictionary<string, string?>? dependencies) => new()
    {
        Id = Guid.NewGuid(), Type = "t", Queue = "q", Payload = "{}", Attempt = 1, MaxAttempts = 3, WorkerId = "w", Dependencies = dependencies,
    };

    private static ClaimedJob RoundTrip(ClaimedJob job)
    {
        var json = JsonSerializer.Serialize(new WireFetchResponse([WireJob.From(job)]), WireJson.Default.WireFetchResponse);
        return Assert.Single(JsonSerializer.Deserialize(json, WireJson.Default.WireFetchResponse)!.Jobs).ToClaimed();
    }

    [Fact]
    public void RoundTrip_Step_DependenciesByNameKept()
    {
        var back = RoundTrip(Claimed(new Dictionary<string, string?> { ["fetch"] = """{"rows":3}""", ["quiet"] = null }));

        Assert.Equal("""{"rows":3}""", back.Dependencies!["fetch"]);
        Assert.Equal("null", back.Dependencies["quiet"]);
    }

    [Fact]
    public void RoundTrip_PlainJob_NoDependenciesField()
    {
        var json = JsonSerializer.Serialize(WireJob.From(Claimed(null)), WireJson.Default.Options);

        Assert.DoesNotContain("dependencies", json, StringComparison.Ordinal);
        Assert.Null(RoundTrip(Claimed(null)).Dependencies);
    }

    [Fact]
    public void RoundTrip_JobLimits_KeptAsTheDocumentsObject()
    {
        var limits = new Gantry.Jobs.ResourceLimits { MemoryMb = 64, Processes = 8 };
        var job = Claimed(null) with { Limits = limits };
        var json = JsonSerializer.Serialize(WireJob.From(job), WireJson.Default.Options);

        Assert.Contains("\"limits\":{\"memory_mb\":64,\"processes\":8}", json, StringComparison.Ordinal);
        Assert.Equal(limits, RoundTrip(job).Limits);
        Assert.Null(RoundTrip(Claimed(null)).Limits);
    }

    [Fact]
    public void RoundTrip_UsageReport_SameRecord()
    {
        var usage = new Gantry.Jobs.AttemptUsage
        {
            Outcome = Gantry.Jobs.AttemptOutcomes.LimitHit, Limit = Gantry.Jobs.AttemptLimits.Memory, CpuSeconds = 0.25, PeakMemoryBytes = 64L << 20, Signal = 9,
        };
        var report = new JobUsageReport(Guid.NewGuid(), 2, "w", usage);
        var json = JsonSerializer.Serialize(new WireReportRequest([WireReport.From(report)]), WireJson.Default.WireReportRequest);

        Assert.Contains("\"kind\":\"usage\"", json, StringComparison.Ordinal);
        Assert.Contains("\"peak_memory_bytes\":67108864", json, StringComparison.Ordinal);
        var back = Assert.Single(JsonSerializer.Deserialize(json, WireJson.Default.WireReportRequest)!.Reports).ToReport("reports[0]");
        Assert.Equal(report, back);
    }
}
