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
    }
}
