using System.Text.Json;
using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary><c>gantry bench</c> as a user runs it: a real process on a real SQLite file.</summary>
public sealed class BenchTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Bench_Rounds_DrainsEachBacklogAndReportsTheirMedian()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "--db", _dir.Db, "--jobs", "300", "--rounds", "3", "--latency-samples", "10", "--concurrency", "4", "--json"]);

        Assert.True(code == 0, stderr);
        using var result = JsonDocument.Parse(stdout);
        var root = result.RootElement;
        Assert.Equal(3, root.GetProperty("rounds").GetInt32());
        var rounds = root.GetProperty("rounds_jobs_per_second").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(3, rounds.Length);
        Assert.All(rounds, r => Assert.True(r > 0, $"round figure {r}"));
        Assert.Equal(rounds.Order().ElementAt(1), root.GetProperty("jobs_per_second").GetDouble());
        Assert.True(root.GetProperty("claims").GetInt32() >= 3, "every round's claims are counted");

        // Three backlogs and both pickup runs went through the measured queue, every job succeeded once.
        var stats = await StoreProbe.WithStoreAsync(_dir.Db, s => s.QueueStatsAsync(CancellationToken.None));
        var measured = stats.Single(q => q.Queue == "default").Counts;
        Assert.Equal(3 * 300 + 10 + 10, measured.GetValueOrDefault(JobState.Succeeded));
        Assert.Equal(measured.GetValueOrDefault(JobState.Succeeded), measured.Values.Sum());
    }

    [Fact]
    public async Task BenchMemory_RealProcesses_ReportsTheirMemoryAndTheCommandsWallTime()
    {
        var store = "sqlite:" + _dir.Db;
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "memory", "--store", store, "--jobs", "500", "--command-runs", "2", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        foreach (var figure in new[] { "run_idle_rss_mib", "worker_idle_rss_mib", "worker_drained_rss_mib", "worker_peak_rss_mib" })
            Assert.InRange(root.GetProperty(figure).GetDouble(), 1, 2048);
        Assert.True(root.GetProperty("worker_peak_rss_mib").GetDouble() >= root.GetProperty("worker_drained_rss_mib").GetDouble());
        Assert.InRange(root.GetProperty("jobs_show_p50_ms").GetDouble(), 1, 60_000);
        Assert.InRange(root.GetProperty("run_startup_ms").GetDouble(), 1, 120_000);
        Assert.InRange(root.GetProperty("worker_startup_ms").GetDouble(), 1, 120_000);
        Assert.Contains("gantry", root.GetProperty("executable").GetString(), StringComparison.Ordinal);
        // The backlog was drained by the worker process, every job once.
        var stats = await StoreProbe.WithStoreAsync(_dir.Db, s => s.QueueStatsAsync(CancellationToken.None));
        Assert.Equal(500, stats.Single(q => q.Queue == "default").Counts.GetValueOrDefault(JobState.Succeeded));
    }

    [Fact]
    public async Task BenchPrune_SmallHistory_ReportsEachRoundAndPrunesBesideTheDrain()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "prune", "--history", "5000", "--jobs", "3000", "--rounds", "2", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        var rounds = root.GetProperty("rounds").EnumerateArray().ToArray();
        Assert.Equal(2, rounds.Length);
        Assert.All(rounds, r =>
        {
            Assert.True(r.GetProperty("alone_jobs_per_second").GetDouble() > 0);
            Assert.True(r.GetProperty("pruning_jobs_per_second").GetDouble() > 0);
            Assert.InRange(r.GetProperty("pruned").GetInt64(), 0, 5000);
        });
        Assert.Equal(5000, root.GetProperty("history").GetInt32());
    }

    [Fact]
    public async Task BenchMemory_OnAStoreThatHoldsJobs_RefusedAndNothingRuns()
    {
        var (code, _, _) = await GantryProcess.RunAsync(_dir.Path, null, ["submit", "noop", "--db", _dir.Db]);
        Assert.Equal(0, code);

        var (refused, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "memory", "--store", "sqlite:" + _dir.Db, "--jobs", "10"]);

        Assert.NotEqual(0, refused);
        Assert.Contains("exists", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchMemory_BinaryThatDoesNotExist_NamesTheFlagAndRunsNothing()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "memory", "--store", "sqlite:" + _dir.Db, "--jobs", "10", "--binary", Path.Combine(_dir.Path, "no-such-gantry")]);

        Assert.NotEqual(0, code);
        Assert.Contains("--binary", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db));
    }

    [Fact]
    public async Task Bench_ZeroRounds_NamesTheFlagAndRunsNothing()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "--db", _dir.Db, "--rounds", "0"]);

        Assert.Equal(2, code);
        Assert.Contains("--rounds: '0' is out of range; it must be at least 1", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db));

        // Beyond an int: the bound it passed, not the one it did not.
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "--db", _dir.Db, "--rounds", "99999999999"]);
        Assert.Equal(2, code);
        Assert.Contains("--rounds: '99999999999' is out of range; it must be at most 2147483647", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchLoad_TwoRates_ReportsLatencyAtEachAndEveryJobRunsOnce()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "load", "--db", _dir.Db, "--rate", "200,400", "--seconds", "1", "--concurrency", "4", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.True(root.GetProperty("drain_jobs_per_second").GetDouble() > 0);
        var levels = root.GetProperty("levels").EnumerateArray().ToArray();
        Assert.Equal([200, 400], levels.Select(l => l.GetProperty("jobs").GetInt32()));
        foreach (var l in levels)
        {
            var (p50, p99, p999) = (l.GetProperty("latency_p50_ms").GetDouble(), l.GetProperty("latency_p99_ms").GetDouble(), l.GetProperty("latency_p999_ms").GetDouble());
            Assert.True(p50 > 0 && p50 <= p99 && p99 <= p999, $"{p50} / {p99} / {p999}");
            Assert.True(l.GetProperty("accepted_jobs_per_second").GetDouble() > 0);
        }
        // SQLite runs inside the process: no database CPU apart.
        Assert.False(levels[0].TryGetProperty("database_cpu_seconds_per1000_jobs", out var cpu) && cpu.ValueKind != JsonValueKind.Null, "no database CPU figure");
        var stats = await StoreProbe.WithStoreAsync(_dir.Db, s => s.QueueStatsAsync(CancellationToken.None));
        var counts = stats.Single(q => q.Queue == "default").Counts;
        Assert.Equal(counts.Values.Sum(), counts.GetValueOrDefault(JobState.Succeeded));
    }

    [Fact]
    public async Task BenchLoad_ApiSubmits_MeasuresTheSubmitCeilingBesideAMinimalEndpoint()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "load", "--db", _dir.Db, "--submit", "api", "--rate", "50", "--seconds", "1", "--ceiling-seconds", "1", "--concurrency", "4", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("api", root.GetProperty("submit").GetString());
        var ceiling = root.GetProperty("ceiling");
        Assert.True(ceiling.GetProperty("api_jobs_per_second").GetDouble() > 0);
        Assert.True(ceiling.GetProperty("minimal_jobs_per_second").GetDouble() > 0);
        Assert.Equal(3, ceiling.GetProperty("api_rounds").GetArrayLength());
        Assert.Equal(50, Assert.Single(root.GetProperty("levels").EnumerateArray()).GetProperty("jobs").GetInt32());
    }

    [Fact]
    public async Task BenchLoad_UnknownSubmitMode_NamesTheFlagAndRunsNothing()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "load", "--db", _dir.Db, "--submit", "carrier-pigeon"]);

        Assert.NotEqual(0, code);
        Assert.Contains("--submit", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db));
    }

    [Fact]
    public async Task BenchLoad_OfferedOverAHundredPercent_NamesTheFlagAndRunsNothing()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "load", "--db", _dir.Db, "--offered", "10,150"]);

        Assert.NotEqual(0, code);
        Assert.Contains("--offered", stderr, StringComparison.Ordinal);
        Assert.Contains("150", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db));
    }

    [Fact]
    public async Task Bench_RawOnSqlite_NamesTheFlagAndRunsNothing()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "--db", _dir.Db, "--raw"]);

        Assert.NotEqual(0, code);
        Assert.Contains("--raw", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db));
    }

    [Fact]
    public async Task BenchNodeSpawn_RealWorkerProcesses_ReportsSpawnToFirstClaim()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "node", "--spawn", "--samples", "2", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2, root.GetProperty("samples").GetInt32());
        Assert.InRange(root.GetProperty("p50_ms").GetDouble(), 1, 120_000);
        Assert.True(root.GetProperty("min_ms").GetDouble() <= root.GetProperty("max_ms").GetDouble());
        Assert.Contains("gantry", root.GetProperty("executable").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchIpc_AWorkerProcessOnTheNodesSocket_ReportsEachKindOfRoundTrip()
    {
        // The worker side runs in a child process and must find the socket where a node listens (its private directory).
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "ipc", "--samples", "200", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(200, root.GetProperty("samples").GetInt32());
        Assert.True(root.GetProperty("message_bytes").GetInt32() > 0);
        foreach (var key in new[] { "ipc_p50_us", "fetch_p50_us", "raw_p50_us" })
            Assert.True(root.GetProperty(key).GetDouble() > 0, key);
    }

    [Fact]
    public async Task BenchNode_BinaryWithoutSpawn_NamesTheFlag()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "node", "--binary", "/bin/true"]);

        Assert.NotEqual(0, code);
        Assert.Contains("--binary", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
