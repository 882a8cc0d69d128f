using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Node;
using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

using static Gantry.Bench.BenchStats;

namespace Gantry.Bench;

/// <summary>
/// A node's throughput against one in-process worker of the same total capacity, each on a fresh
/// SQLite store: the workers are up and idle, then a backlog of no-op jobs is enqueued and the
/// clock runs from the first enqueue to the last success. The node runs real worker processes.
/// Each side drains <c>rounds</c> backlogs after its warm-up, and their medians are compared: one
/// drain of 20,000 jobs lasts well under a second, and single runs moved by ±20% here.
/// </summary>
/// <param name="gantry">The gantry program the node starts its workers from, and its leading arguments.</param>
public sealed class NodeBench(IReadOnlyList<string> gantry, int jobs, int capacity, int workers, int rounds, Action<string> progress)
{
    private const int EnqueueBatch = 1000;

    public async Task<NodeBenchResult> RunAsync(CancellationToken ct)
    {
        progress($"one in-process worker, capacity {capacity}: {jobs:N0} jobs");
        var inProcess = await OnFreshStoreAsync(InProcessAsync, ct).ConfigureAwait(false);
        progress($"a node with {workers} worker processes of capacity {capacity / workers}: {jobs:N0} jobs");
        var node = await OnFreshStoreAsync(NodeAsync, ct).ConfigureAwait(false);
        return new NodeBenchResult
        {
            Jobs = jobs, Capacity = capacity, Workers = workers, Rounds = rounds,
            InProcessJobsPerSecond = Math.Round(jobs / Median(inProcess)),
            NodeJobsPerSecond = Math.Round(jobs / Median(node)),
            Ratio = Math.Round(Median(inProcess) / Median(node), 3),
            InProcessRounds = [.. inProcess.Select(s => Math.Round(jobs / s))],
            NodeRounds = [.. node.Select(s => Math.Round(jobs / s))],
        };
    }

    private static async Task<double[]> OnFreshStoreAsync(Func<IJobStore, string, CancellationToken, Task<double[]>> run, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("gantry-bench-node-").FullName;
        try
        {
            await using var store = await Gantry.Hosting.Stores.OpenAsync(new Gantry.Hosting.SqliteLocation(Path.Combine(dir, "bench.db")), createIfMissing: true, ct).ConfigureAwait(false);
            return await run(store, dir, ct).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task<double[]> InProcessAsync(IJobStore store, string dir, CancellationToken ct)
    {
        var services = new ServiceCollection().AddGantryBuiltInHandlers().BuildServiceProvider();
        await using var _ = services.ConfigureAwait(false);
        var counting = new CountingLink(new StoreWorkerLink(store), 0);
        var worker = new GantryWorker(counting, new WorkerOptions { Queues = new Dictionary<string, int> { ["default"] = capacity } }, services);
        await worker.StartAsync(ct).ConfigureAwait(false);
        await using (worker.ConfigureAwait(false))
            return await DrainAsync(store, counting, () => [Environment.ProcessId], ct).ConfigureAwait(false);
    }

    private async Task<double[]> NodeAsync(IJobStore store, string dir, CancellationToken ct)
    {
        var options = new NodeOptions
        {
            RunDirectory = Path.Combine(dir, "run"),
            WorkerCommand = gantry,
            WorkerArguments = ["--queues", $"default:{capacity / workers}", "--log-level", "Warning"],
            Workers = workers,
            Queues = new Dictionary<string, int> { ["default"] = capacity / workers },
            JobTypes = BuiltInHandlers.Types,
            RelayWorkerOutput = false,
        };
        // The node's own link to the store counts the successes its workers report through it.
        var counting = new CountingLink(new StoreWorkerLink(store), 0);
        await using var node = new GantryNode(counting, options, NullLoggerFactory.Instance);
        await node.StartAsync(ct).ConfigureAwait(false);
        while (node.Status().Workers.Count(w => w.State == ManagedWorkerStates.Running) < workers) await Task.Delay(50, ct).ConfigureAwait(false);
        await Task.Delay(500, ct).ConfigureAwait(false); // let the workers settle into their idle loop
        return await DrainAsync(store, counting,
            () => [Environment.ProcessId, .. node.Status().Workers.Where(w => w.Pid is not null).Select(w => w.Pid!.Value)], ct).ConfigureAwait(false);
    }

    /// <summary>
    /// After a warm-up, enqueues the backlog into idle workers and waits for the last success, for each
    /// round: the seconds each took. Every process, the node's workers too, compiles its hot paths for
    /// seconds after they are first called, and a drain measured meanwhile measures the JIT: the warm-up
    /// runs rounds until the JIT threads of all the <paramref name="processes"/> stay nearly idle through
    /// one (where /proc cannot tell, until a round is no faster than the one before).
    /// </summary>
    private async Task<double[]> DrainAsync(IJobStore store, CountingLink counting, Func<IEnumerable<int>> processes, CancellationToken ct)
    {
        double? previous = null;
        for (var round = 1; round <= WarmupMaxRounds; round++)
        {
            var jitBefore = JitActivity.CpuOf(processes());
            var took = await DrainAsync(store, counting, WarmupRound, ct).ConfigureAwait(false);
            await Task.Delay(300, ct).ConfigureAwait(false);
            var jit = JitActivity.CpuOf(processes()) - jitBefore;
            progress($"warm-up round {round}: {WarmupRound / took:N0} jobs/s{(jit is { } j ? $", JIT {j.TotalMilliseconds:0} ms" : "")}");
            var settled = jit is { } spent ? spent <= WarmupSettledJit : previous is { } p && took > p * 0.95;
            if (round >= 3 && settled) break;
            previous = took;
        }
        var measured = new double[rounds];
        for (var round = 0; round < rounds; round++)
        {
            measured[round] = await DrainAsync(store, counting, jobs, ct).ConfigureAwait(false);
            progress($"round {round + 1}: {jobs / measured[round]:N0} jobs/s ({counting.Claims} claims taking {counting.ClaimTime.TotalMilliseconds:0} ms, {counting.ReportCalls} report calls taking {counting.ReportTime.TotalMilliseconds:0} ms)");
            await Task.Delay(300, ct).ConfigureAwait(false);
        }
        return measured;
    }

    private const int WarmupRound = 5000;
    private const int WarmupMaxRounds = 20;
    /// <summary>JIT thread CPU (all the processes, one round and its pause) at which the warm-up ends: about two clock ticks.</summary>
    private static readonly TimeSpan WarmupSettledJit = TimeSpan.FromMilliseconds(20);

    /// <summary>Enqueues <paramref name="jobs"/> and waits until their successes are committed (counted as they pass, not by reading the store).</summary>
    private static async Task<double> DrainAsync(IJobStore store, CountingLink counting, int jobs, CancellationToken ct)
    {
        counting.Expect(jobs);
        var started = Stopwatch.GetTimestamp();
        for (var done = 0; done < jobs; done += EnqueueBatch)
        {
            var batch = Enumerable.Range(0, Math.Min(EnqueueBatch, jobs - done)).Select(_ => new NewJob { Id = JobIds.New(), Type = "noop" }).ToArray();
            await store.JobEnqueueManyAsync(new JobEnqueueParams(batch), ct).ConfigureAwait(false);
        }
        await counting.AllSucceeded.WaitAsync(ct).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started, counting.LastSuccessAt).TotalSeconds;
    }
}

/// <summary>
/// A node's managed worker from spawn to first claim: with one no-op job waiting in a fresh SQLite store, a node of one
/// worker process starts (it spawns the worker at once), and the clock runs from the node's start to the first claim
/// its worker makes through it that returns the job; then the node stops, and the next sample starts a new one.
/// </summary>
public static class NodeSpawnBench
{
    /// <param name="gantry">The gantry program the node starts its worker from, and its leading arguments.</param>
    public static async Task<NodeSpawnResult> RunAsync(IReadOnlyList<string> gantry, int samples, Action<string> progress, CancellationToken ct)
    {
        var command = gantry;
        var dir = Directory.CreateTempSubdirectory("gantry-bench-spawn-").FullName;
        try
        {
            await using var store = await Gantry.Hosting.Stores.OpenAsync(new Gantry.Hosting.SqliteLocation(Path.Combine(dir, "bench.db")), createIfMissing: true, ct).ConfigureAwait(false);
            var counting = new CountingLink(new StoreWorkerLink(store), 0);
            var times = new double[samples];
            // One spawn not counted: the first start of an executable reads it from disk into the page cache.
            for (var i = -1; i < samples; i++)
            {
                counting.Expect(1);
                await store.JobEnqueueManyAsync(new JobEnqueueParams([new NewJob { Id = JobIds.New(), Type = "noop" }]), ct).ConfigureAwait(false);
                var options = new NodeOptions
                {
                    RunDirectory = Path.Combine(dir, "run"),
                    WorkerCommand = command,
                    WorkerArguments = ["--queues", "default:1", "--log-level", "Warning"],
                    Workers = 1,
                    Queues = new Dictionary<string, int> { ["default"] = 1 },
                    JobTypes = BuiltInHandlers.Types,
                    RelayWorkerOutput = false,
                };
                var started = Stopwatch.GetTimestamp();
                await using (var node = new GantryNode(counting, options, NullLoggerFactory.Instance))
                {
                    await node.StartAsync(ct).ConfigureAwait(false);
                    await counting.AllSucceeded.WaitAsync(TimeSpan.FromMinutes(1), ct).ConfigureAwait(false);
                    if (i >= 0) times[i] = Stopwatch.GetElapsedTime(started, counting.FirstClaimAt).TotalMilliseconds;
                    await node.StopAsync(ct).ConfigureAwait(false);
                }
                if (i >= 0) progress($"spawn {i + 1} of {samples}: first claim after {times[i]:0} ms");
            }
            Array.Sort(times);
            return new NodeSpawnResult(string.Join(' ', command), samples, Math.Round(Percentile(times, 0.5), 1), Math.Round(times[0], 1), Math.Round(times[^1], 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>What <c>gantry bench node --spawn --json</c> prints: milliseconds from a node's start to its worker's first claim.</summary>
public sealed record NodeSpawnResult(string Executable, int Samples, double P50Ms, double MinMs, double MaxMs);

/// <summary>What <c>gantry bench node --json</c> prints; <see cref="Ratio"/> is the node's throughput over the in-process worker's.</summary>
public sealed record NodeBenchResult
{
    public required int Jobs { get; init; }
    public required int Capacity { get; init; }
    public required int Workers { get; init; }
    public required double InProcessJobsPerSecond { get; init; }
    public required double NodeJobsPerSecond { get; init; }
    public required double Ratio { get; init; }
    public int Rounds { get; init; }
    /// <summary>Each measured drain's throughput, in order.</summary>
    public double[] InProcessRounds { get; init; } = [];
    public double[] NodeRounds { get; init; } = [];
}
