using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Xunit.Abstractions;

namespace Gantry.Cli.Tests;

/// <summary>
/// A node of 4 worker processes × 4 slots, given 64 jobs of 500 ms right after 3,000 no-ops: its workers
/// share them about as well as from cold. (The first to fetch used to take them all: 8 s against 2 s.)
/// </summary>
public sealed class NodePrefetchTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task SlowJobsAfterManyNoops_FourByFourNode_RunAsFastAsFromCold()
    {
        await using var node = GantryProcess.Start(_dir.Path, ["node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--workers", "4",
            "--queues", "default:4", "--poll-interval", "50ms", "--heartbeat-interval", "1s"]);
        await node.WaitForOutputAsync("Press Ctrl-C to stop.", TimeSpan.FromSeconds(60));
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _dir.Db }, CancellationToken.None);

        await DrainAsync(store, Jobs("noop", "{}", 64)); // all four workers connected and warm
        var cold = await DrainAsync(store, Jobs("sleep", """{"ms":500}""", 64));
        await DrainAsync(store, Jobs("noop", "{}", 3_000));
        var warm = await DrainAsync(store, Jobs("sleep", """{"ms":500}""", 64));
        output.WriteLine($"64 × 500 ms on a 4×4 node: from cold {cold.TotalMilliseconds:F0} ms, after 3,000 no-ops {warm.TotalMilliseconds:F0} ms");

        // 4 rounds of 16: 2 s; all on one worker's 4 slots, 8 s. Generous for a loaded machine.
        Assert.True(warm < cold * 1.3 + TimeSpan.FromSeconds(0.5), $"after the no-ops {warm.TotalMilliseconds:F0} ms, from cold {cold.TotalMilliseconds:F0} ms");
    }

    private static NewJob[] Jobs(string type, string payload, int n) =>
        Enumerable.Range(0, n).Select(_ => new NewJob { Id = JobIds.New(), Type = type, Payload = payload }).ToArray();

    /// <summary>Submits the jobs and waits until every one has succeeded; returns how long that took.</summary>
    private static async Task<TimeSpan> DrainAsync(IJobStore store, NewJob[] jobs)
    {
        var clock = Stopwatch.StartNew();
        await store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), CancellationToken.None);
        var last = jobs[^1].Id;
        while (true)
        {
            if ((await store.JobGetAsync(last, CancellationToken.None))?.State == JobState.Succeeded)
            {
                var all = await Task.WhenAll(jobs.Select(j => store.JobGetAsync(j.Id, CancellationToken.None)));
                if (all.All(j => j?.State == JobState.Succeeded)) return clock.Elapsed;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(90)) throw new TimeoutException($"{jobs.Length} {jobs[0].Type} jobs not done in 90 s");
            await Task.Delay(25);
        }
    }
}
