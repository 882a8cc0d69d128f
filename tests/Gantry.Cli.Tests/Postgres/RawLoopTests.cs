using System.Text.Json;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>`gantry bench --raw` and `gantry bench load` on PostgreSQL: the raw loop beside the drain, the database's CPU.</summary>
public sealed class RawLoopTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task BenchRaw_TwoRounds_RunsTheRawLoopBesideEachDrainAndReportsTheRatio()
    {
        var (url, connectionString) = await fixture.NewStoreDatabaseAsync();

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            "bench", "--store", url, "--jobs", "2000", "--rounds", "2", "--latency-samples", "5", "--concurrency", "4", "--raw", "--json");

        Assert.True(code == 0, $"bench --raw failed ({code}): {stderr}{stdout}");
        var root = JsonDocument.Parse(stdout).RootElement;
        var raws = root.GetProperty("raw_rounds_jobs_per_second").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(2, raws.Length);
        Assert.All(raws, r => Assert.True(r > 0, $"raw loop figure {r}"));
        Assert.Equal(raws.Order().ElementAt(1), root.GetProperty("raw_jobs_per_second").GetDouble());
        Assert.InRange(root.GetProperty("raw_ratio").GetDouble(), 0.001, 1000);
        // The raw loop drops the schema it made: only Gantry's store is left in the database.
        var schemas = await StoreSql.ScalarAsync<long>(connectionString, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rawloop_%'");
        Assert.Equal(0, schemas);
    }

    [Fact]
    public async Task BenchLoad_BatchedArrivals_ReportsLatencyAndTheDatabasesCpu()
    {
        var url = await fixture.NewDatabaseAsync();

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            "bench", "load", "--store", url, "--rate", "300", "--seconds", "1", "--concurrency", "4", "--json");

        Assert.True(code == 0, $"bench load failed ({code}): {stderr}{stdout}");
        var root = JsonDocument.Parse(stdout).RootElement;
        var level = Assert.Single(root.GetProperty("levels").EnumerateArray());
        Assert.Equal(300, level.GetProperty("jobs").GetInt32());
        // The PostgreSQL server of the fixture runs on this host: its processes' CPU is read.
        Assert.True(level.GetProperty("database_cpu_seconds_per1000_jobs").GetDouble() > 0, stdout);
    }
}
