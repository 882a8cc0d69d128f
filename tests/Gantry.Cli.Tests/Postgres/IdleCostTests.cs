using System.Text.Json;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>`gantry bench idle`: what idle workers and servers cost a PostgreSQL database, counted by the database.</summary>
[RunsLong(57)]
public sealed class IdleCostTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task BenchIdle_WorkersAndAServer_CostFarUnderASecondTransactionEach()
    {
        var url = await fixture.NewDatabaseAsync();

        // Three 15 s counts, a settling time before two of them and the processes' start-ups: about a minute on a quiet
        // machine, so more than the minute other commands get.
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, TimeSpan.FromMinutes(4),
            ["bench", "idle", "--store", url, "--workers", "2", "--servers", "1", "--seconds", "15", "--json"]);

        Assert.True(code == 0, $"bench idle failed ({code}): {stderr}{stdout}");
        var result = JsonDocument.Parse(stdout).RootElement;
        // Measured at 0.4 per worker and 0.7 per server (docs/benchmarks.md), from 6.4 and 3.5 when every loop polled;
        // the bounds leave room for a loaded machine and a short count, and still catch a loop that polls again.
        var perWorker = result.GetProperty("transactions_per_second_per_worker").GetDouble();
        var perServer = result.GetProperty("transactions_per_second_per_server").GetDouble();
        Assert.InRange(perWorker, 0.0, 1.5);
        Assert.InRange(perServer, -0.5, 2.0); // a difference of two counts: near zero it can come out a little below
        Assert.Equal(2, result.GetProperty("worker_rss_mib").GetArrayLength());
        Assert.All(result.GetProperty("worker_rss_mib").EnumerateArray(), m => Assert.InRange(m.GetDouble(), 1, 1024));
    }

    [Fact]
    public async Task BenchIdle_OnSqlite_RefusedNamingTheStore()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "bench", "idle", "--store", "sqlite:" + Path.Combine(_dir.Path, "x.db"));

        Assert.NotEqual(0, code);
        Assert.Contains("--store", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
