using System.Diagnostics;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection;

using static Gantry.Bench.BenchStats;

namespace Gantry.Bench;

/// <summary>
/// Measures the runtime end to end on a real store, in process: throughput (a backlog of no-op
/// jobs drained by one worker, first start to last completion written) and pickup latency
/// (single jobs submitted to an idle worker, enqueue call to handler start).
/// </summary>
/// <param name="link">The worker's link to the coordinator; by default the store itself.</param>
/// <param name="rounds">Backlogs drained one after another on the same store; the figures are their median. Each
/// later round runs on the history the earlier ones left (their finished jobs, and on PostgreSQL their
/// claim-index entries until a vacuum), as a store in service does.</param>
/// <param name="rawLoopOn">The PostgreSQL database the store is in, to run a reference loop on (bench/RawPostgresLoop) for as many jobs, once per round beside the round's drain
/// (before it in odd rounds, after it in even ones): the drain's ratio to it is reported.</param>
public sealed class BenchRunner(IJobStore store, int jobs, int concurrency, int latencySamples, Action<string> progress, Func<IWorkerLink>? link = null, int rounds = 1,
    BenchFlow? flow = null, int maxPrefetch = Gantry.Worker.WorkerOptions.MaxPrefetchDefault, Gantry.Hosting.PostgresLocation? rawLoopOn = null)
{
    private readonly Func<int, CancellationToken, Task<RawLoopResult>>? raw =
        rawLoopOn is null ? null : (count, token) => RawPostgresLoop.RunAsync(rawLoopOn.ConnectionString, count, token);

    private IWorkerLink NewLink() => link?.Invoke() ?? new StoreWorkerLink(store);

    internal const string JobType = "bench";
    private const int EnqueueBatch = 1000;
    /// <summary>Jobs per warm-up round, run before measuring so that the figures are the runtime's, not the JIT's.</summary>
    private const int WarmupRound = 5000;
    private const int WarmupMaxRounds = 16;
    /// <summary>Pickup samples taken after the drain (at most).</summary>
    private const int AfterDrainSamples = 200;
    /// <summary>A round (with its pause) during which the JIT worked less than this ends the warm-up.</summary>
    private static readonly TimeSpan WarmupSettled = TimeSpan.FromMilliseconds(25);

    public async Task<BenchResult> RunAsync(CancellationToken ct)
    {
        var probe = new BenchProbe();
        // The maintenance services run beside the worker, leader-elected as in `gantry run` and `gantry server`: what a
        // store in service has (on PostgreSQL the upkeep that keeps the claim's walk short is among them).
        var services = new ServiceCollection().AddSingleton(probe).AddGantryHandler<BenchHandler, JsonElement>(JobType, BenchPayloadJson.Default.JsonElement)
            .AddSingleton(store).AddLogging().AddGantryLeaderElectedMaintenance().BuildServiceProvider();
        await using var _ = services.ConfigureAwait(false);
        var maintenance = services.GetRequiredService<Gantry.Server.Leadership.LeaderHost>();
        await maintenance.StartAsync(ct).ConfigureAwait(false);
        try
        {
            return await RunAsync(services, probe, ct).ConfigureAwait(false);
        }
        finally
        {
            await maintenance.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<BenchResult> RunAsync(ServiceProvider services, BenchProbe probe, CancellationToken ct)
    {
        var options = new WorkerOptions { Queues = new Dictionary<string, int> { ["default"] = concurrency }, WorkerId = $"bench-{Environment.ProcessId}", MaxPrefetch = maxPrefetch };

        // 0. Warm up: the same path, on a queue of its own, not measured, in rounds until the JIT has
        // settled (tiered compilation re-compiles hot methods in the background for seconds after
        // they are first called; measured mid-way, half the drain's CPU went to the JIT).
        var warmup = await WarmUpAsync(services, options, probe, ct).ConfigureAwait(false);
        if (raw is not null)
        {
            progress($"warming up the raw loop: {WarmupRound:N0} jobs");
            await raw(WarmupRound, ct).ConfigureAwait(false);
        }

        // 1. Pickup latency on an idle queue: one job at a time into an idle worker.
        progress($"measuring pickup latency over {latencySamples} jobs");
        var idleLink = new CountingLink(NewLink(), 0);
        var idleWorker = new GantryWorker(idleLink, options with { WorkerId = $"bench-idle-{Environment.ProcessId}" }, services);
        await idleWorker.StartAsync(ct).ConfigureAwait(false);
        var pickup = await PickupAsync(idleLink, probe, latencySamples, ct).ConfigureAwait(false);
        await idleWorker.StopAsync(ct).ConfigureAwait(false);
        probe.Reset();
        // The drained queue's flow limits, set once the queue exists (the pickup jobs made it).
        if (flow?.Limits is { } limits)
        {
            progress($"limiting the queue: {limits}{(flow.Keys > 0 ? $", jobs spread over {flow.Keys:N0} concurrency keys" : "")}");
            await store.QueueLimitsSetAsync("default", limits, ct).ConfigureAwait(false);
        }

        // 2-3. Per round: enqueue the backlog in batches, then drain it with one worker of C slots; a round's
        // clock runs from the first handler start to the last success committed.
        CountingLink? counting = null;
        GantryWorker? worker = null;
        var drains = new double[rounds];
        var raws = new double[raw is null ? 0 : rounds];
        async Task RawRoundAsync(int round, string of)
        {
            if (raw is null) return;
            progress($"the raw loop on the same database: {jobs:N0} jobs{of}");
            raws[round] = (await raw(jobs, ct).ConfigureAwait(false)).JobsPerSecond;
        }
        var enqueueSeconds = new double[rounds];
        var enqueueCost = new ProcessCost();
        var drainCost = new ProcessCost();
        using var calls = new CallTimes();
        // GANTRY_BENCH_ALLOCATIONS=1: sample which types the drains allocate (the sampling itself costs a little).
        using var allocations = Environment.GetEnvironmentVariable("GANTRY_BENCH_ALLOCATIONS") == "1" ? new AllocationSampler() : null;
        for (var round = 0; round < rounds; round++)
        {
            if (worker is not null) await worker.StopAsync(ct).ConfigureAwait(false);
            var of = rounds > 1 ? $" (round {round + 1} of {rounds})" : "";
            if (round % 2 == 0) await RawRoundAsync(round, of).ConfigureAwait(false);
            progress($"enqueueing {jobs:N0} jobs in batches of {EnqueueBatch:N0}{of}");
            var enqueueWatch = Stopwatch.StartNew();
            var enqueueRound = ProcessCost.Start();
            await EnqueueAsync(jobs, "default", ct, flow?.Keys ?? 0).ConfigureAwait(false);
            enqueueSeconds[round] = enqueueWatch.Elapsed.TotalSeconds;
            enqueueCost += enqueueRound.Stop();

            progress($"draining with {concurrency} slots{of}");
            probe.Reset();
            counting = new CountingLink(NewLink(), jobs);
            // A worker of its own per round: a stopped worker's registration is not reused.
            worker = new GantryWorker(counting, round == 0 ? options : options with { WorkerId = $"{options.WorkerId}-{round + 1}" }, services);
            calls.Resume();
            if (allocations is not null) allocations.Recording = true;
            var drainRound = ProcessCost.Start();
            await worker.StartAsync(ct).ConfigureAwait(false);
            await counting.AllSucceeded.WaitAsync(ct).ConfigureAwait(false);
            drainCost += drainRound.Stop();
            if (allocations is not null) allocations.Recording = false;
            calls.Stop();
            drains[round] = Stopwatch.GetElapsedTime(probe.FirstStart, counting.LastSuccessAt).TotalSeconds;
            if (round % 2 == 1) await RawRoundAsync(round, of).ConfigureAwait(false);
        }
        var drainSeconds = Median(drains);
        var drained = (long)jobs * rounds;

        // 4. Pickup again, on the queue just drained: the store still carries the drain's traces
        // (on PostgreSQL, index entries of the claimed rows until vacuum) and may be cleaning up.
        var afterSamples = Math.Min(latencySamples, AfterDrainSamples);
        progress($"measuring pickup latency after the drain over {afterSamples} jobs");
        var afterDrain = await PickupAsync(counting!, probe, afterSamples, ct).ConfigureAwait(false);
        await worker!.StopAsync(ct).ConfigureAwait(false);

        return new BenchResult
        {
            Store = link is null ? store.Description : $"{store.Description} via {counting!.Description}",
            Link = link is null ? "store" : "http",
            Jobs = jobs,
            Concurrency = concurrency,
            EnqueueJobsPerSecond = Math.Round(jobs / Median(enqueueSeconds)),
            JobsPerSecond = Math.Round(jobs / drainSeconds),
            DrainSeconds = Math.Round(drainSeconds, 3),
            Rounds = rounds,
            RoundsJobsPerSecond = [.. drains.Select(d => Math.Round(jobs / d))],
            RawJobsPerSecond = raw is null ? null : Median(raws),
            RawRoundsJobsPerSecond = raws,
            RawRatio = raw is null ? null : Math.Round(Median([.. drains.Select((d, i) => jobs / d / raws[i])]), 3),
            LatencySamples = latencySamples,
            LatencyP50Ms = Math.Round(Percentile(pickup.Latencies, 0.50), 3),
            LatencyP99Ms = Math.Round(Percentile(pickup.Latencies, 0.99), 3),
            EnqueueCallP50Ms = Math.Round(Percentile(pickup.EnqueueCalls, 0.50), 3),
            LatencyMaxMs = Math.Round(pickup.Latencies[^1], 3),
            AfterDrainLatencyP50Ms = Math.Round(Percentile(afterDrain.Latencies, 0.50), 3),
            AfterDrainLatencyP99Ms = Math.Round(Percentile(afterDrain.Latencies, 0.99), 3),
            Claims = calls.Claims.Count,
            ClaimP50Ms = Math.Round(PercentileOf(calls.Claims, 0.50), 3),
            ClaimP99Ms = Math.Round(PercentileOf(calls.Claims, 0.99), 3),
            ReportBatches = calls.Reports.Count,
            ReportP50Ms = Math.Round(PercentileOf(calls.Reports, 0.50), 3),
            ReportP99Ms = Math.Round(PercentileOf(calls.Reports, 0.99), 3),
            EnqueueCpuUsPerJob = Math.Round(enqueueCost.Cpu.TotalMicroseconds / drained, 1),
            DrainCpuUsPerJob = Math.Round(drainCost.Cpu.TotalMicroseconds / drained, 1),
            DrainAllocatedBytesPerJob = drainCost.AllocatedBytes / drained,
            DrainGcs = drainCost.Gen0Collections,
            DrainJitMs = Math.Round(drainCost.Jit.TotalMilliseconds, 1),
            WarmupJobs = warmup,
            DrainAllocations = allocations?.Top(15).Select(x => new AllocationShare(x.Type, x.Share)).ToArray(),
            Machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion.VersionString}, .NET {Environment.Version}",
        };
    }

    /// <summary>
    /// Submits <paramref name="samples"/> single jobs, each once the worker behind <paramref name="link"/>
    /// is idle again (the previous success written): milliseconds from the enqueue call to the handler's
    /// start, and of the enqueue call alone, each sorted.
    /// </summary>
    private async Task<(double[] Latencies, double[] EnqueueCalls)> PickupAsync(CountingLink link, BenchProbe probe, int samples, CancellationToken ct)
    {
        var latencies = new double[samples];
        var enqueueCalls = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            link.Expect(1);
            var started = probe.ExpectStart();
            var before = Stopwatch.GetTimestamp();
            await store.JobEnqueueManyAsync(new JobEnqueueParams([new NewJob { Id = JobIds.New(), Type = JobType }]), ct).ConfigureAwait(false);
            enqueueCalls[i] = Stopwatch.GetElapsedTime(before).TotalMilliseconds;
            var at = await started.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            latencies[i] = Stopwatch.GetElapsedTime(before, at).TotalMilliseconds;
            // Idle again only once the completion is written: the next job meets no write in flight.
            await link.AllSucceeded.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            await Task.Delay(1, ct).ConfigureAwait(false);
        }
        Array.Sort(latencies);
        Array.Sort(enqueueCalls);
        return (latencies, enqueueCalls);
    }

    /// <summary>
    /// Runs rounds of <see cref="WarmupRound"/> jobs through a worker until a round compiles almost
    /// nothing (at most <see cref="WarmupMaxRounds"/>); the pauses between rounds let the
    /// tiered JIT's background promotions run. Returns the jobs run.
    /// </summary>
    private async Task<int> WarmUpAsync(ServiceProvider services, WorkerOptions options, BenchProbe probe, CancellationToken ct)
    {
        var ran = 0;
        for (var round = 1; round <= WarmupMaxRounds; round++)
        {
            progress($"warming up: round {round}, {WarmupRound:N0} jobs ({System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:N0} ms compiling so far)");
            var compilingBefore = System.Runtime.JitInfo.GetCompilationTime();
            await EnqueueAsync(WarmupRound, "warmup", ct).ConfigureAwait(false);
            var warmLink = new CountingLink(NewLink(), WarmupRound);
            var warm = new GantryWorker(warmLink, options with { Queues = new Dictionary<string, int> { ["warmup"] = concurrency }, WorkerId = $"bench-warmup-{Environment.ProcessId}-{round}" }, services);
            await warm.StartAsync(ct).ConfigureAwait(false);
            await warmLink.AllSucceeded.WaitAsync(ct).ConfigureAwait(false);
            await warm.StopAsync(ct).ConfigureAwait(false);
            ran += WarmupRound;
            await Task.Delay(TimeSpan.FromMilliseconds(300), ct).ConfigureAwait(false);
            if (round >= 3 && System.Runtime.JitInfo.GetCompilationTime() - compilingBefore < WarmupSettled) break;
        }
        probe.Reset();
        return ran;
    }

    private async Task EnqueueAsync(int count, string queue, CancellationToken ct, int keys = 0)
    {
        for (var done = 0; done < count; done += EnqueueBatch)
        {
            var batch = Enumerable.Range(0, Math.Min(EnqueueBatch, count - done))
                .Select(i => new NewJob { Id = JobIds.New(), Type = JobType, Queue = queue, ConcurrencyKey = keys > 0 ? $"k{(done + i) % keys}" : null }).ToArray();
            await store.JobEnqueueManyAsync(new JobEnqueueParams(batch), ct).ConfigureAwait(false);
        }
    }

    /// <summary>The worker's claim and report calls during the drain, in milliseconds, from its own instruments.</summary>
    private sealed class CallTimes : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private volatile bool _stopped = true;

        public List<double> Claims { get; } = [];
        public List<double> Reports { get; } = [];

        public CallTimes()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument == Telemetry.GantryMetrics.ClaimDuration) l.EnableMeasurementEvents(instrument, Claims);
                else if (instrument == Telemetry.GantryMetrics.ReportDuration) l.EnableMeasurementEvents(instrument, Reports);
            };
            _listener.SetMeasurementEventCallback<double>((_, seconds, _, state) =>
            {
                if (_stopped) return;
                var list = (List<double>)state!;
                lock (list) list.Add(seconds * 1000);
            });
            _listener.Start();
        }

        public void Stop() => _stopped = true;

        public void Resume() => _stopped = false;

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Records when handlers start.</summary>
    internal sealed class BenchProbe
    {
        private long _firstStart;
        private TaskCompletionSource<long>? _nextStart;

        public long FirstStart => Interlocked.Read(ref _firstStart);

        public void Reset() => Interlocked.Exchange(ref _firstStart, 0);

        public Task<long> ExpectStart()
        {
            var tcs = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _nextStart, tcs);
            return tcs.Task;
        }

        public void Started()
        {
            var now = Stopwatch.GetTimestamp();
            Interlocked.CompareExchange(ref _firstStart, now, 0);
            Volatile.Read(ref _nextStart)?.TrySetResult(now);
        }
    }

    internal sealed class BenchHandler(BenchProbe probe) : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context)
        {
            probe.Started();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Flow limits on the drained queue (<c>gantry bench --limit-concurrency/--limit-per-key/--limit-rate/--limit-rate-per-key</c>), and how many
/// concurrency keys its jobs are spread over (0: none).</summary>
public sealed record BenchFlow(Gantry.Flow.QueueLimits? Limits, int Keys);
