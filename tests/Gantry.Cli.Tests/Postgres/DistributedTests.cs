using System.Text.RegularExpressions;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>
/// The distributed shape end to end: `gantry server` and several `gantry worker` processes on one
/// PostgreSQL, with a worker SIGKILLed and the database restarted under them, and a leader killed.
/// </summary>
[RunsLong(19)]
public sealed partial class DistributedTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>, IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ServerAndThreeWorkers_WorkerKilledAndDatabaseRestarted_EveryJobSucceededOnce()
    {
        const int Jobs = 5000;
        var (url, sql) = await fixture.NewStoreDatabaseAsync();
        // Short heartbeats and dead-worker timeout so the killed worker's jobs come back in seconds, not half a minute.
        await using var server = GantryProcess.Start(_dir.Path, "server", "--store", url, "--dead-worker-timeout", "6s", "--rescue-interval", "1s");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var workers = new List<GantryProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
                workers.Add(GantryProcess.Start(_dir.Path, "worker", "--store", url, "--queues", "default:8", "--heartbeat-interval", "1s", "--lease-duration", "20s"));
            foreach (var w in workers) await w.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            string Context() => $"server:\n{server.Output}\n" + string.Join("\n", workers.Select((w, i) => $"worker {i}:\n{w.Output}"));

            // 24 slots, 40 ms a job: about ten seconds of work, long enough to kill and restart in the middle.
            var file = _dir.File("jobs.jsonl");
            File.WriteAllLines(file, Enumerable.Range(0, Jobs).Select(i => $"{{\"type\":\"sleep\",\"payload\":{{\"ms\":40}},\"tags\":{{\"n\":\"{i}\"}}}}"));
            var submit = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", file, "--store", url);
            Assert.True(submit.ExitCode == 0, submit.Stderr);

            const string Succeeded = "SELECT count(*) FROM jobs WHERE state = 'succeeded'";
            await StoreSql.WaitForCountAsync(sql, Succeeded, 800, Generous, Context);
            var victim = workers[0];
            var victimId = WorkerId().Match(victim.Stdout).Groups[1].Value;
            var held = await StoreSql.ScalarAsync<long>(sql, $"SELECT count(*) FROM jobs WHERE state = 'running' AND worker_id = '{victimId}'");
            victim.Signal(GantryProcess.SigKill);
            await victim.WaitForExitAsync(Generous);

            await StoreSql.WaitForCountAsync(sql, Succeeded, 2000, Generous, Context);
            await fixture.Cluster.RestartAsync();

            await StoreSql.WaitForCountAsync(sql, Succeeded, Jobs, TimeSpan.FromSeconds(90), Context);

            // Nothing lost, nothing left over, and each job's history adds up: every failed attempt is a lost
            // worker's, and the attempt that succeeded is the one after them.
            var states = await StoreSql.RowsAsync(sql, "SELECT state, count(*) FROM jobs GROUP BY state");
            Assert.Equal([("succeeded", (long)Jobs)], states.Select(r => ((string)r[0], (long)r[1])));
            var inconsistent = await StoreSql.ScalarAsync<long>(sql, """
                SELECT count(*) FROM jobs j
                WHERE j.attempt <> 1 + (SELECT count(*) FROM job_errors e WHERE e.job_id = j.id)
                   OR EXISTS (SELECT 1 FROM job_errors e WHERE e.job_id = j.id AND e.kind <> 'worker_lost')
                   OR j.result IS NULL OR j.finished_at IS NULL
                """);
            Assert.True(inconsistent == 0, $"{inconsistent} job(s) with an attempt count, error or result that does not add up.\n{Context()}");
            var distinctTags = await StoreSql.ScalarAsync<long>(sql, "SELECT count(DISTINCT tags->>'n') FROM jobs");
            Assert.Equal(Jobs, distinctTags);
            // The killed worker's jobs: lost with it, and run again by another worker.
            if (held > 0)
            {
                var retried = await StoreSql.ScalarAsync<long>(sql, $"""
                    SELECT count(*) FROM jobs j JOIN job_errors e ON e.job_id = j.id
                    WHERE e.worker_id = '{victimId}' AND e.kind = 'worker_lost' AND j.attempt >= 2 AND j.worker_id <> '{victimId}'
                    """);
                Assert.True(retried >= 1, $"the killed worker held {held} job(s), none was rescued and retried.\n{Context()}");
            }
            var dead = await StoreSql.ScalarAsync<string>(sql, $"SELECT state FROM workers WHERE id = '{victimId}'");
            Assert.Equal("dead", dead);

            var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "workers", "--store", url, "--json");
            Assert.True(code == 0, stderr);
            Assert.Equal(2, Regex.Matches(stdout, "\"state\": \"running\"").Count);

            foreach (var w in workers.Skip(1)) w.Signal(GantryProcess.SigTerm);
            foreach (var w in workers.Skip(1)) Assert.Equal(0, await w.WaitForExitAsync(Generous));
            server.Signal(GantryProcess.SigTerm);
            Assert.Equal(0, await server.WaitForExitAsync(Generous));
        }
        finally
        {
            foreach (var w in workers) await w.DisposeAsync();
        }
    }

    [Fact]
    public async Task TwoServers_LeaderKilled_OtherTakesOverMaintenance()
    {
        var url = await fixture.NewDatabaseAsync();
        await using var first = GantryProcess.Start(_dir.Path, "server", "--store", url);
        await first.WaitForOutputAsync("Elected leader", Generous);
        await using var second = GantryProcess.Start(_dir.Path, "server", "--store", url);
        await second.WaitForOutputAsync("Standing by", Generous);
        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--store", url);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        first.Signal(GantryProcess.SigKill);
        await first.WaitForExitAsync(Generous);
        // Due in 2 s: only a scheduler can move it to queued, and only the second server is left to run one.
        var runAt = DateTimeOffset.UtcNow.AddSeconds(2).ToString("O");
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{\"after\":\"handover\"}", "--run-at", runAt, "--wait", "--store", url);

        Assert.True(code == 0, $"submit failed ({code}): {stderr}{stdout}\nsecond server:\n{second.Output}");
        Assert.Contains("succeeded", stdout + stderr, StringComparison.Ordinal);
        Assert.Contains("Elected leader", second.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s*worker\s+(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex WorkerId();
}
