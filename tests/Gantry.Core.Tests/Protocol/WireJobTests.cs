using System.Text.Json;
using Gantry.Protocol.Wire;
using Gantry.Storage;

namespace Gantry.Core.Tests.Protocol;

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
}
