using Microsoft.Data.Sqlite;

namespace Gantry.Cli.Tests;

/// <summary>
/// A concurrency limit on one SQLite file shared by two processes (`gantry run` and a `gantry worker`), the worker
/// SIGKILLed mid-run: the running count, sampled throughout, never passes the limit, and the queue drains.
/// </summary>
[RunsLong(14)]
public sealed class FlowLimitSqliteProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ConcurrencyLimit_TwoProcesses_WorkerKilled_RunningNeverAboveLimit_QueueDrains()
    {
        const int Jobs = 80, Limit = 3;
        var file = _dir.File("jobs.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, Jobs).Select(i => $"{{\"type\":\"sleep\",\"payload\":{{\"ms\":100}},\"tags\":{{\"n\":\"{i}\"}}}}"));
        var submit = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", file, "--db", _dir.Db);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        var limit = await GantryProcess.RunAsync(_dir.Path, null, "queues", "limit", "default", "--concurrency", $"{Limit}", "--db", _dir.Db);
        Assert.True(limit.ExitCode == 0, limit.Stderr);

        using var stop = new CancellationTokenSource();
        var samples = new List<long>();
        var sampler = Task.Run(async () =>
        {
            await using var c = new SqliteConnection($"Data Source={_dir.Db};Mode=ReadOnly;Pooling=False");
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM jobs WHERE state = 'running'";
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

            Assert.True(samples.Max() <= Limit, $"{samples.Max()} jobs ran at once under a limit of {Limit}.\n{Context()}");
            Assert.True(samples.Max() == Limit, $"the limit was never reached (at most {samples.Max()} running).\n{Context()}");
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
