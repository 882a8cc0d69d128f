using Microsoft.Data.Sqlite;

namespace Gantry.Cli.Tests;

/// <summary>
/// A concurrency limit and a per-key limit on one SQLite file shared by two processes (`gantry run` and a `gantry worker`),
/// the worker SIGKILLed mid-run: the running count (per key for the per-key limit), sampled throughout, never passes the
/// limit, and the queue drains.
/// </summary>
[RunsLong(28)]
public sealed class FlowLimitSqliteProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const int Jobs = 80;

    [Fact]
    public Task ConcurrencyLimit_TwoProcesses_WorkerKilled_RunningNeverAboveLimit_QueueDrains() =>
        UnderFailureAsync(i => "", ["--concurrency", "3"], limit: 3, sample: "SELECT count(*) FROM jobs WHERE state = 'running'");

    [Fact]
    public Task PerKeyLimit_TwoProcesses_WorkerKilled_NoKeyEverAboveItsLimit_QueueDrains() =>
        // Three keys and the jobs without a key (one key together), two of each at most.
        UnderFailureAsync(i => i % 4 == 3 ? "" : $",\"concurrency_key\":\"tenant-{i % 4}\"", ["--per-key", "2"], limit: 2,
            sample: "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM jobs WHERE state = 'running' GROUP BY concurrency_key)");

    /// <summary>The queue's <see cref="Jobs"/> sleep jobs (each job's extra document fields from <paramref name="fields"/>) under
    /// <paramref name="limitArgs"/>, run by both processes, the worker killed on the way; what <paramref name="sample"/> counts is
    /// sampled throughout: never above <paramref name="limit"/>, and it reaches it.</summary>
    private async Task UnderFailureAsync(Func<int, string> fields, string[] limitArgs, int limit, string sample)
    {
        var file = _dir.File("jobs.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, Jobs).Select(i => $"{{\"type\":\"sleep\",\"payload\":{{\"ms\":100}},\"tags\":{{\"n\":\"{i}\"}}{fields(i)}}}"));
        var submit = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", file, "--db", _dir.Db);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        var set = await GantryProcess.RunAsync(_dir.Path, null, ["queues", "limit", "default", .. limitArgs, "--db", _dir.Db]);
        Assert.True(set.ExitCode == 0, set.Stderr);

        using var stop = new CancellationTokenSource();
        var samples = new List<long>();
        var sampler = Task.Run(async () =>
        {
            await using var c = new SqliteConnection($"Data Source={_dir.Db};Mode=ReadOnly;Pooling=False");
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = sample;
            while (!stop.IsCancellationRequested)
            {
                samples.Add((long)(await cmd.ExecuteScalarAsync())!);
                await Task.Delay(10);
            }
        });
        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--db", _dir.Db, "--queues", "default:4", "--heartbeat-interval", "1s", "--lease-duration", "20s");
        await using var run = GantryProcess.Start(_dir.Path, "run", "--db", _dir.Db, "--queues", "default:4", "--dead-worker-timeout", "6s", "--rescue-interval", "1s",
            "--heartbeat-interval", "1s");
        try
        {
            string Context() => $"run:\n{run.Output}\nworker:\n{worker.Output}";
            await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            await WaitForSucceededAsync(10, Context);
            worker.Signal(GantryProcess.SigKill);
            await worker.WaitForExitAsync(Generous);
            await WaitForSucceededAsync(Jobs, Context);
            await stop.CancelAsync();
            await sampler;

            Assert.True(samples.Max() <= limit, $"{samples.Max()} jobs ran at once under a limit of {limit} ({string.Join(' ', limitArgs)}).\n{Context()}");
            Assert.True(samples.Max() == limit, $"the limit was never reached (at most {samples.Max()} running).\n{Context()}");
            run.Signal(GantryProcess.SigTerm);
            Assert.Equal(0, await run.WaitForExitAsync(Generous));
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private async Task WaitForSucceededAsync(long atLeast, Func<string> context)
    {
        var deadline = DateTime.UtcNow + Generous;
        long n = 0;
        while (DateTime.UtcNow < deadline)
        {
            n = await StoreProbe.WithStoreAsync(_dir.Db, async s =>
                (await s.QueueStatsAsync(CancellationToken.None)).Sum(q => q[Gantry.Jobs.JobState.Succeeded]));
            if (n >= atLeast) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{n} of {atLeast} jobs succeeded within {Generous}.\n{context()}");
    }
}
