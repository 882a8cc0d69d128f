using System.Text.Json;
using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary><c>gantry bench stats</c> and <c>gantry bench dashboard</c> as a user runs them, on a small history: what they
/// print holds the real figures, checked against the store they filled.</summary>
public sealed class BenchStatsAndDashboardTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task BenchStats_SmallHistory_CountsEveryJobOfTheStoreAndTimesEachRead()
    {
        var db = _dir.File("stats.db");
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "stats", "--db", db, "--history", "2000", "--queues", "3", "--reads", "5", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2000, root.GetProperty("history").GetInt32());
        Assert.Equal(3, root.GetProperty("queues").GetInt32());
        Assert.Equal(5, root.GetProperty("reads").GetInt32());
        Assert.Contains(db, root.GetProperty("store").GetString(), StringComparison.Ordinal);
        // The history and each queue's backlog, as the store itself counts them afterwards.
        var stats = await StoreProbe.WithStoreAsync(db, s => s.QueueStatsAsync(CancellationToken.None));
        Assert.Equal(3, stats.Count);
        var inStore = stats.Sum(q => q.Counts.Values.Sum());
        Assert.Equal(inStore, root.GetProperty("jobs_counted").GetInt64());
        Assert.True(inStore > 2000, $"{inStore} jobs: the history and a backlog");
        Assert.Equal(2000, stats.Sum(q => q.Counts.GetValueOrDefault(JobState.Succeeded) + q.Counts.GetValueOrDefault(JobState.Dead)));
        var (p50, p99, max) = (root.GetProperty("p50_ms").GetDouble(), root.GetProperty("p99_ms").GetDouble(), root.GetProperty("max_ms").GetDouble());
        Assert.True(p50 > 0 && p50 <= p99 && p99 <= max && max < 10_000, $"p50 {p50}, p99 {p99}, max {max}");
        Assert.True(root.GetProperty("fill_seconds").GetDouble() > 0);

        // The text: the same run's figures, one line each.
        var text = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "stats", "--history", "1000", "--queues", "2", "--reads", "3"]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Matches(@"history\s+1,000 finished jobs in 2 queues \(\d+\.\d+s to make\), 1,\d{3} counted", text.Stdout);
        Assert.Matches(@"queue stats\s+p50 \d+\.\d{3} ms, p99 \d+\.\d{3} ms, max \d+\.\d{3} ms \(3 reads\)", text.Stdout);
    }

    [Fact]
    public async Task BenchDashboard_SmallHistory_TimesEveryViewsCallWithTheRowsItFound()
    {
        var db = _dir.File("dashboard.db");
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "dashboard", "--db", db, "--history", "2000", "--reads", "3", "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2000, root.GetProperty("history").GetInt32());
        var calls = root.GetProperty("calls").EnumerateArray().ToDictionary(c => c.GetProperty("view").GetString()!, c => c);
        foreach (var (view, call) in calls)
        {
            var (p50, p99) = (call.GetProperty("p50_ms").GetDouble(), call.GetProperty("p99_ms").GetDouble());
            Assert.True(p50 > 0 && p50 <= p99 && p99 < 10_000, $"{view}: p50 {p50}, p99 {p99}");
        }
        int Rows(string view) => calls[view].GetProperty("rows").GetInt32();
        // What each call found, against what the store holds.
        var stats = await StoreProbe.WithStoreAsync(db, s => s.QueueStatsAsync(CancellationToken.None));
        var dead = stats.Sum(q => q.Counts.GetValueOrDefault(JobState.Dead));
        Assert.InRange(dead, 1, 49);
        Assert.Equal(dead, Rows("jobs: state dead (1%)"));
        Assert.Equal(0, Rows("jobs: state cancelled (none)"));
        Assert.Equal(50, Rows("jobs: first page"));
        Assert.Equal(50, Rows("jobs: a page half way down"));
        Assert.Equal(50, Rows("jobs: tag team=billing (5%)"));
        Assert.Equal(1, Rows("search: id"));
        Assert.Equal(1, Rows("search: idempotency key"));
        Assert.Equal(50, Rows("search: type prefix mail."));
        Assert.Equal(0, Rows("search: nothing matches"));
        Assert.Equal(stats.Count, Rows("queues"));
        Assert.Equal(1, Rows("workflows"));
        Assert.Equal(0, Rows("workers"));
        Assert.True(root.GetProperty("first_view_p50_ms").GetDouble() > 0);

        var text = await GantryProcess.RunAsync(_dir.Path, null, ["bench", "dashboard", "--history", "2000", "--reads", "2"]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Matches(@"jobs: state cancelled \(none\)\s+p50\s+\d+\.\d{3} ms\s+p99\s+\d+\.\d{3} ms\s+0 rows", text.Stdout);
        Assert.Matches(@"search: id\s+p50\s+\d+\.\d{3} ms\s+p99\s+\d+\.\d{3} ms\s+1 rows", text.Stdout);
        Assert.Matches(@"first view \(page, files, session, overview\)\s+p50\s+\d+\.\d{3} ms", text.Stdout);
    }
}
