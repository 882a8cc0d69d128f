using System.Text.RegularExpressions;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>
/// Cluster-wide limits under failure, a concurrency limit and a per-key limit: a server, three worker processes and a node
/// with two managed workers on one PostgreSQL, each willing to run more than the limit; a worker and then the node (with
/// its workers) SIGKILLed mid-run; the running count (per key for the per-key limit), sampled throughout, never passes
/// the limit, no slot is left, and the queue drains.
/// </summary>
[RunsLong(24)]
public sealed partial class FlowLimitProcessTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>, IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const int Jobs = 120;

    [Fact]
    public Task ConcurrencyLimit_WorkersAndANode_WorkerAndNodeKilled_RunningNeverAboveLimit_QueueDrains() =>
        UnderFailureAsync(i => "", ["--concurrency", "5"], limit: 5,
            sample: "SELECT count(*) FROM jobs WHERE state = 'running'",
            // No slot left: the queue's running total (a limit without keys) is back to zero.
            leftSql: """
                SELECT l.held + (SELECT coalesce(sum(d.n), 0) FROM queue_held_deltas AS d WHERE d.queue = l.queue AND d.epoch = l.epoch)
                FROM queue_limits AS l WHERE l.queue = 'default'
                """);

    [Fact]
    public Task PerKeyLimit_WorkersAndANode_WorkerAndNodeKilled_NoKeyEverAboveItsLimit_QueueDrains() =>
        // Four keys and the jobs without a key (one key together), two of each at most; each key alone would fill a worker.
        UnderFailureAsync(i => i % 5 == 4 ? "" : $",\"concurrency_key\":\"tenant-{i % 5}\"", ["--per-key", "2"], limit: 2,
            sample: "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM jobs WHERE state = 'running' GROUP BY concurrency_key) AS k",
            leftSql: "SELECT count(*) FROM job_ready");

    /// <summary>
    /// The queue's <see cref="Jobs"/> sleep jobs (each job's extra document fields from <paramref name="fields"/>) under
    /// <paramref name="limitArgs"/>, run by the node, three workers, a worker and the node killed on the way; what
    /// <paramref name="sample"/> counts is sampled throughout: never above <paramref name="limit"/>, and it reaches it.
    /// <paramref name="leftSql"/> counts what should be left of the slots once the queue drained: nothing.
    /// </summary>
    private async Task UnderFailureAsync(Func<int, string> fields, string[] limitArgs, int limit, string sample, string leftSql)
    {
        var (url, sql) = await fixture.NewStoreDatabaseAsync();
        var file = _dir.File("jobs.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, Jobs).Select(i => $"{{\"type\":\"sleep\",\"payload\":{{\"ms\":150}},\"tags\":{{\"n\":\"{i}\"}}{fields(i)}}}"));
        var submit = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", file, "--store", url);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        var set = await GantryProcess.RunAsync(_dir.Path, null, ["queues", "limit", "default", .. limitArgs, "--store", url]);
        Assert.True(set.ExitCode == 0, set.Stderr);

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
                    samples.Add(await StoreSql.ScalarAsync<long>(sql, sample));
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

            Assert.True(samples.Max() <= limit, $"{samples.Max()} jobs ran at once under a limit of {limit} ({string.Join(' ', limitArgs)}).\n{Context()}");
            Assert.True(samples.Max() == limit, $"the limit was never reached (at most {samples.Max()} running): the test shows nothing.\n{Context()}");
            Assert.Equal(0L, await StoreSql.ScalarAsync<long>(sql, leftSql));
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
