using System.Diagnostics;
using Gantry.Hosting;
using Gantry.Jobs;
using Gantry.Storage;

using static Gantry.Bench.BenchStats;

namespace Gantry.Bench;

/// <summary>
/// What Gantry's processes weigh and how fast a short command answers, each a real process started from
/// <paramref name="executable"/> (a gantry program and its leading arguments) on a fresh store: the resident memory of an idle <c>gantry worker</c>, of the same worker after it
/// drained a backlog of no-op jobs (now, and at its peak), of an idle <c>gantry run</c>; and the wall time of
/// <c>gantry jobs show ID</c>, from start to exit. The gantry command gives its own
/// program, or another to measure (<c>--binary</c>: for instance a Native AOT build beside the JIT one).
/// </summary>
/// <param name="workerExecutable">Runs the worker (idle, drained) instead of <paramref name="executable"/>, e.g. gantry-worker; null: the same.</param>
public sealed class MemoryBench(StoreLocation store, int jobs, int commandRuns, IReadOnlyList<string> executable, Action<string> progress,
    IReadOnlyList<string>? workerExecutable = null)
{
    private readonly IReadOnlyList<string> _worker = workerExecutable ?? executable;

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    public async Task<MemoryBenchResult> RunAsync(CancellationToken ct)
    {
        var environment = new Dictionary<string, string>
        {
            ["GANTRY_STORE"] = store switch { PostgresLocation pg => pg.Url, SqliteLocation file => "sqlite:" + Path.GetFullPath(file.Path), _ => store.Display },
        };
        await using var client = await Stores.OpenAsync(store, createIfMissing: true, ct).ConfigureAwait(false);
        await BenchStore.RequireEmptyAsync(client, ct).ConfigureAwait(false);

        progress("an idle gantry run");
        double runIdle, runStartupMs;
        using (var run = BenchProcess.Start(executable, environment, "run", "--listen", "127.0.0.1:0"))
        {
            await run.UpAsync(ct).ConfigureAwait(false);
            runStartupMs = run.StartupMs ?? double.NaN;
            await Task.Delay(Settle, ct).ConfigureAwait(false);
            runIdle = run.ResidentMiB();
        }

        progress($"an idle gantry worker, then the same worker draining {jobs:N0} no-op jobs");
        double workerIdle, workerDrained, workerPeak, drainSeconds, workerStartupMs;
        using (var worker = BenchProcess.Start(_worker, environment, "worker", "--queues", "default:16"))
        {
            await worker.UpAsync(ct).ConfigureAwait(false);
            workerStartupMs = worker.StartupMs ?? double.NaN;
            await Task.Delay(Settle, ct).ConfigureAwait(false);
            workerIdle = worker.ResidentMiB();
            var clock = Stopwatch.StartNew();
            for (var done = 0; done < jobs; done += 1000)
            {
                var batch = Enumerable.Range(0, Math.Min(1000, jobs - done)).Select(_ => new NewJob { Id = JobIds.New(), Type = "noop" }).ToArray();
                await client.JobEnqueueManyAsync(new JobEnqueueParams(batch), ct).ConfigureAwait(false);
            }
            while (await SucceededAsync(client, ct).ConfigureAwait(false) < jobs)
            {
                worker.CheckAlive();
                await Task.Delay(250, ct).ConfigureAwait(false);
            }
            drainSeconds = clock.Elapsed.TotalSeconds;
            await Task.Delay(Settle, ct).ConfigureAwait(false);
            workerDrained = worker.ResidentMiB();
            workerPeak = worker.PeakResidentMiB();
        }

        progress($"gantry jobs show, {commandRuns} times");
        var job = (await client.JobEnqueueManyAsync(new JobEnqueueParams([new NewJob { Id = JobIds.New(), Type = "noop", Queue = "bench-show" }]), ct).ConfigureAwait(false))[0].Id;
        var showMs = new List<double>();
        for (var i = 0; i < commandRuns; i++) showMs.Add(await RunCommandMsAsync(executable, environment, ct, "jobs", "show", job.ToString()).ConfigureAwait(false));

        return new MemoryBenchResult
        {
            Store = store.Display,
            Executable = string.Join(' ', executable),
            WorkerExecutable = string.Join(' ', _worker),
            Jobs = jobs,
            RunIdleRssMib = runIdle,
            WorkerIdleRssMib = workerIdle,
            WorkerDrainedRssMib = workerDrained,
            WorkerPeakRssMib = workerPeak,
            DrainSeconds = Math.Round(drainSeconds, 2),
            JobsShowRuns = commandRuns,
            JobsShowP50Ms = Math.Round(PercentileOf(showMs, 0.5), 1),
            JobsShowMinMs = Math.Round(showMs.Min(), 1),
            RunStartupMs = Math.Round(runStartupMs, 1),
            WorkerStartupMs = Math.Round(workerStartupMs, 1),
        };
    }

    private static async Task<long> SucceededAsync(IJobStore store, CancellationToken ct) =>
        (await store.QueueStatsAsync(ct).ConfigureAwait(false)).Where(q => q.Queue == "default").Sum(q => q.Counts.GetValueOrDefault(JobState.Succeeded));

    /// <summary>Runs a gantry command to its end and returns its wall time, start to exit, in milliseconds.</summary>
    private static async Task<double> RunCommandMsAsync(IReadOnlyList<string> executable, IReadOnlyDictionary<string, string> environment, CancellationToken ct, params string[] args)
    {
        var info = BenchProcess.StartInfo(executable, environment, args);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(info) ?? throw new GantryException($"could not start gantry {args[0]}");
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var errors = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        var ms = clock.Elapsed.TotalMilliseconds;
        if (p.ExitCode != 0) throw new GantryException($"gantry {string.Join(' ', args)} exited {p.ExitCode}: {(await errors.ConfigureAwait(false)).Trim()}");
        _ = await output.ConfigureAwait(false);
        return ms;
    }
}

/// <summary>What <c>gantry bench memory --json</c> prints.</summary>
public sealed record MemoryBenchResult
{
    public required string Store { get; init; }
    /// <summary>The gantry program measured, with its leading arguments.</summary>
    public required string Executable { get; init; }
    /// <summary>The program the worker rows (idle, drained, its start-up) measured: <see cref="Executable"/> unless another was given.</summary>
    public required string WorkerExecutable { get; init; }
    public required int Jobs { get; init; }
    public required double RunIdleRssMib { get; init; }
    public required double WorkerIdleRssMib { get; init; }
    /// <summary>After the drain and a few seconds' rest.</summary>
    public required double WorkerDrainedRssMib { get; init; }
    /// <summary>The largest resident set the worker reached (VmHWM).</summary>
    public required double WorkerPeakRssMib { get; init; }
    public required double DrainSeconds { get; init; }
    public required int JobsShowRuns { get; init; }
    public required double JobsShowP50Ms { get; init; }
    public required double JobsShowMinMs { get; init; }
    /// <summary>Start of <c>gantry run</c> to its "Press Ctrl-C to stop." line.</summary>
    public required double RunStartupMs { get; init; }
    /// <summary>Start of <c>gantry worker</c> to its "Press Ctrl-C to stop." line.</summary>
    public required double WorkerStartupMs { get; init; }
}
