using System.Text.RegularExpressions;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>
/// A cluster-wide concurrency limit under failure: a server, three worker processes and a node with two managed
/// workers on one PostgreSQL, each willing to run more than the limit; a worker and then the node (with its workers)
/// SIGKILLed mid-run; the running count, sampled throughout, never passes the limit, no slot is left, and the queue
/// drains.
/// </summary>
[RunsLong(12)]
public sealed partial class FlowLimitProcessTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>, IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ConcurrencyLimit_WorkersAndANode_WorkerAndNodeKilled_RunningNeverAboveLimit_QueueDrains()
    {
        const int Jobs = 120, Limit = 5;
        var (url, sql) = await fixture.NewStoreDatabaseAsync();
        var file = _dir.File("jobs.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, Jobs).Select(i => $"{{\"type\":\"sleep\",\"payload\":{{\"ms\":150}},\"tags\":{{\"n\":\"{i}\"}}}}"));
        var submit = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", file, "--store", url);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        var limit = await GantryProcess.RunAsync(_dir.Path, null, "queues", "limit", "default", "--concurrency", $"{Limit}", "--store", url);
        Assert.True(limit.ExitCode == 0, limit.Stderr);

        await using var server = GantryProcess.Start(_dir.Path, "server", "--store", url, "--dead-worker-timeout", "6s", "--rescue-interval", "1s");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var workers = new List<GantryProcess>();
        GantryProcess? node = null;
        using var stop = new CancellationTokenSource();
        try
        {
            node = GantryProcess.Start(_dir.Path, "node", "--store", url, "--run-dir", _dir.File("run"), "--workers", "2", "--queues", "default:4",
                "--heartbeat-interval", "1s", "--lease-duration", "20s");
            string Context() => $"server:\n{server.Output}\nnode:\n{node.Output}\n" + string.Join("\n", workers.Select((w, i) => $"worker {i}:\n{w.Output}"));

            // Sample the running count (claimed and not ended: prefetched jobs count too) until the queue drains.
            var samples = new List<long>();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    samples.Add(await StoreSql.ScalarAsync<long>(sql, "SELECT count(*) FROM jobs WHERE state = 'running'"));
                    await Task.Delay(10);
                }
            });
            // The node first, alone: its workers run the first jobs (with plain workers beside it from the start, whichever
            // process frees a slot tends to take it again, and the node might run nothing).
            await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            const string Succeeded = "SELECT count(*) FROM jobs WHERE state = 'succeeded'";
            await StoreSql.WaitForCountAsync(sql, Succeeded, 5, Generous, Context);
            for (var i = 0; i < 3; i++)
                workers.Add(GantryProcess.Start(_dir.Path, "worker", "--store", url, "--queues", "default:4", "--heartbeat-interval", "1s", "--lease-duration", "20s"));
            foreach (var w in workers) await w.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

            await StoreSql.WaitForCountAsync(sql, Succeeded, 20, Generous, Context);
            var victim = workers[0];
            var victimId = WorkerId().Match(victim.Stdout).Groups[1].Value;
            var held = await StoreSql.ScalarAsync<long>(sql, $"SELECT count(*) FROM jobs WHERE state = 'running' AND worker_id = '{victimId}'");
            victim.Signal(GantryProcess.SigKill);
            await victim.WaitForExitAsync(Generous);
            // The node and its workers next, once more jobs are through (its workers die with it: parent-death signal).
            await StoreSql.WaitForCountAsync(sql, Succeeded, 50, Generous, Context);
            node.Signal(GantryProcess.SigKill);
            await node.WaitForExitAsync(Generous);

            await StoreSql.WaitForCountAsync(sql, Succeeded, Jobs, Generous, Context);
            await stop.CancelAsync();
            await sampler;

            Assert.True(samples.Max() <= Limit, $"{samples.Max()} jobs ran at once under a limit of {Limit}.\n{Context()}");
            Assert.True(samples.Max() == Limit, $"the limit was never reached (at most {samples.Max()} running): the test shows nothing.\n{Context()}");
            // No slot left: the queue's running total (a limit without keys) is back to zero, and no job is marked.
            Assert.Equal(0L, await StoreSql.ScalarAsync<long>(sql, """
                SELECT l.held + (SELECT coalesce(sum(d.n), 0) FROM queue_held_deltas AS d WHERE d.queue = l.queue AND d.epoch = l.epoch)
                FROM queue_limits AS l WHERE l.queue = 'default'
                """));
            Assert.Equal(0L, await StoreSql.ScalarAsync<long>(sql, "SELECT count(*) FROM jobs WHERE slot"));
            if (held > 0)
                Assert.True(await StoreSql.ScalarAsync<long>(sql, $"SELECT count(*) FROM job_errors WHERE worker_id = '{victimId}' AND kind = 'worker_lost'") >= 1,
                    $"the killed worker held {held} job(s), none was rescued.\n{Context()}");

            foreach (var w in workers.Skip(1)) w.Signal(GantryProcess.SigTerm);
            foreach (var w in workers.Skip(1)) Assert.Equal(0, await w.WaitForExitAsync(Generous));
            server.Signal(GantryProcess.SigTerm);
            Assert.Equal(0, await server.WaitForExitAsync(Generous));
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var w in workers) await w.DisposeAsync();
            if (node is not null) await node.DisposeAsync();
        }
    }

    [GeneratedRegex(@"^\s*worker\s+(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex WorkerId();
}
