using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Gantry.Hosting;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using static Gantry.Bench.BenchStats;

namespace Gantry.Bench;

/// <summary>
/// A fixed offered load, in process on a fresh store: one worker (with the leader-elected maintenance services beside
/// it, as a deployment has them) serves no-op jobs that arrive at a set rate, either each in its own <c>POST
/// /api/v1/jobs</c> to a real Kestrel server on 127.0.0.1 (as a web app submits) or gathered every
/// <see cref="BatchTick"/> into one enqueue call. Arrivals are on a fixed schedule whatever happens to earlier ones (an
/// open loop), and each job's latency runs from its scheduled arrival to its success committed, so a submit path that
/// falls behind shows as latency, not as a lower rate. The rates are given, or percentages of a drain rate measured first
/// on the same store. Also measured: the database's CPU per 1,000 jobs at each rate, and with API submits the rate 32
/// closed-loop submitters reach through the API against a minimal endpoint doing the same one-job insert.
/// </summary>
/// <param name="ceilingWindow">How long each closed-loop round of the submit ceiling runs.</param>
public sealed class LoadBench(IJobStore store, StoreLocation? location, LoadSubmit submit, IReadOnlyList<double> percents, IReadOnlyList<double> rates,
    TimeSpan duration, int concurrency, TimeSpan ceilingWindow, Action<string> progress)
{
    private const string JobType = "bench";
    /// <summary>Batched arrivals: the jobs that arrived in this much time are enqueued by one call.</summary>
    public static readonly TimeSpan BatchTick = TimeSpan.FromMilliseconds(BatchTickMs);

    /// <summary><see cref="BatchTick"/> in milliseconds: a constant, so that the gantry command's help names it without loading the benchmarks.</summary>
    public const int BatchTickMs = 10;
    /// <summary>API submits in flight at once, at most; arrivals beyond wait (and their wait counts in their latency).</summary>
    private const int MaxInFlight = 256;
    /// <summary>Closed-loop submitters for the submit ceiling.</summary>
    internal const int Submitters = 32;
    private const int DrainJobs = 20_000;
    private const int WarmupRounds = 6;

    public async Task<LoadBenchResult> RunAsync(CancellationToken ct)
    {
        var probe = new LoadProbe();
        var services = new ServiceCollection().AddSingleton(probe)
            .AddGantryHandler<LoadHandler, JsonElement>(JobType, BenchPayloadJson.Default.JsonElement)
            .AddSingleton(store).AddLogging().AddGantryLeaderElectedMaintenance().BuildServiceProvider();
        await using var _ = services.ConfigureAwait(false);
        var maintenance = services.GetRequiredService<Gantry.Server.Leadership.LeaderHost>();
        await maintenance.StartAsync(ct).ConfigureAwait(false);
        var link = new CountingLink(new StoreWorkerLink(store), int.MaxValue, probe.Finished);
        var worker = new GantryWorker(link, new WorkerOptions { Queues = new Dictionary<string, int> { ["default"] = concurrency }, WorkerId = $"bench-load-{Environment.ProcessId}" }, services);
        await worker.StartAsync(ct).ConfigureAwait(false);
        var database = await DatabaseCpu.OpenAsync(location, ct).ConfigureAwait(false);
        WebApplication? app = null;
        try
        {
            // The drain rate the percentages are of: a warm-up drain, then a measured one, both of no-op jobs in batches.
            // Warm-up drains with pauses between them, for the tiered JIT's background promotions (as gantry bench does).
            for (var round = 1; round <= WarmupRounds; round++)
            {
                progress($"warming up: drain {round} of {WarmupRounds}, 5,000 jobs");
                await DrainAsync(probe, 5_000, ct).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMilliseconds(300), ct).ConfigureAwait(false);
            }
            progress($"the drain rate: a backlog of {DrainJobs:N0} jobs");
            var drainRate = Math.Round(DrainJobs / await DrainAsync(probe, DrainJobs, ct).ConfigureAwait(false));
            progress($"drain rate {drainRate:N0} jobs/s");

            HttpClient? http = null;
            SubmitCeiling? ceiling = null;
            if (submit == LoadSubmit.Api)
            {
                (app, http) = await StartApiAsync(ct).ConfigureAwait(false);
                ceiling = await CeilingAsync(http, ct).ConfigureAwait(false);
            }
            // Single API submits cannot reach a drain rate: their percentages are of the rate the API took when pressed.
            var (reference, referenceName) = ceiling is { } c && c.ApiJobsPerSecond < drainRate ? (c.ApiJobsPerSecond, "the API's submit ceiling") : (drainRate, "the drain rate");
            var levels = new List<LoadLevel>();
            var offered = rates.Count > 0
                ? rates.Select(r => (Rate: r, Percent: (double?)null))
                : percents.Select(p => (Rate: Math.Max(1, Math.Round(reference * p / 100)), Percent: (double?)p));
            foreach (var (rate, percent) in offered)
            {
                progress($"offering {rate:N0} jobs/s{(percent is { } p ? $" ({p:0}% of {referenceName})" : "")} for {duration.TotalSeconds:0}s, {(submit == LoadSubmit.Api ? "each job its own POST /api/v1/jobs" : $"batched every {BatchTick.TotalMilliseconds:0} ms")}");
                levels.Add(await LevelAsync(rate, percent, http, probe, database, ct).ConfigureAwait(false));
            }
            http?.Dispose();
            return new LoadBenchResult
            {
                Store = store.Description,
                Submit = submit == LoadSubmit.Api ? "api" : "batch",
                Concurrency = concurrency,
                DrainJobsPerSecond = drainRate,
                PercentOf = referenceName,
                SecondsPerLevel = duration.TotalSeconds,
                DatabaseCpu = database.Describes,
                Levels = [.. levels],
                Ceiling = ceiling,
                Machine = $"{Environment.ProcessorCount} cores, load average {LoadAverage()}",
            };
        }
        finally
        {
            if (app is not null) await app.DisposeAsync().ConfigureAwait(false);
            await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await maintenance.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Enqueues <paramref name="jobs"/> in batches of 1,000 and returns the seconds to drain them (first enqueue to last success).</summary>
    private async Task<double> DrainAsync(LoadProbe probe, int jobs, CancellationToken ct)
    {
        var done = probe.Expect(jobs);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < jobs; i += 1000)
            await store.JobEnqueueManyAsync(new JobEnqueueParams([.. Enumerable.Range(0, Math.Min(1000, jobs - i)).Select(_ => NewJob(Stopwatch.GetTimestamp()))]), ct).ConfigureAwait(false);
        await done.WaitAsync(TimeSpan.FromMinutes(5), ct).ConfigureAwait(false);
        probe.TakeLatencies();
        return watch.Elapsed.TotalSeconds;
    }

    private static NewJob NewJob(long arrival) => new() { Id = JobIds.New(), Type = JobType, Payload = $"{{\"t\":{arrival}}}" };

    private static string Document(long arrival) => $"{{\"type\":\"{JobType}\",\"payload\":{{\"t\":{arrival}}}}}";

    /// <summary>Offers <paramref name="rate"/> jobs per second for the level's duration, then waits for all of them to finish.</summary>
    private async Task<LoadLevel> LevelAsync(double rate, double? percent, HttpClient? http, LoadProbe probe, DatabaseCpu database, CancellationToken ct)
    {
        var total = (int)Math.Round(rate * duration.TotalSeconds);
        var done = probe.Expect(total);
        var failures = 0;
        var cpuBefore = await database.ReadAsync(ct).ConfigureAwait(false);
        var processBefore = ProcessCost.Start();
        var start = Stopwatch.GetTimestamp();
        var ticksPerJob = Stopwatch.Frequency / rate;
        long Arrival(int i) => start + (long)(i * ticksPerJob);
        if (http is not null)
        {
            using var gate = new SemaphoreSlim(MaxInFlight);
            var inFlight = new List<Task>(total);
            for (var i = 0; i < total; i++)
            {
                var at = Arrival(i);
                if (Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), at) is { Ticks: > 0 } wait) await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.Zero : wait, ct).ConfigureAwait(false);
                await gate.WaitAsync(ct).ConfigureAwait(false);
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        using var content = new StringContent(Document(at), System.Text.Encoding.UTF8, "application/json");
                        using var response = await http.PostAsync("api/v1/jobs", content, ct).ConfigureAwait(false);
                        if (!response.IsSuccessStatusCode) Interlocked.Increment(ref failures);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }, ct));
            }
            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }
        else
        {
            for (var next = 0; next < total;)
            {
                await Task.Delay(BatchTick, ct).ConfigureAwait(false);
                var now = Stopwatch.GetTimestamp();
                var batch = new List<NewJob>();
                while (next < total && Arrival(next) <= now) batch.Add(NewJob(Arrival(next++)));
                if (batch.Count > 0) await store.JobEnqueueManyAsync(new JobEnqueueParams(batch), ct).ConfigureAwait(false);
            }
        }
        var submitSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (failures > 0) throw new GantryException($"{failures:N0} of {total:N0} submits failed at {rate:N0} jobs/s");
        await done.WaitAsync(TimeSpan.FromMinutes(5), ct).ConfigureAwait(false);
        var cpu = await database.ReadAsync(ct).ConfigureAwait(false) - cpuBefore;
        var process = processBefore.Stop();
        var latencies = probe.TakeLatencies();
        Array.Sort(latencies);
        return new LoadLevel
        {
            OfferedJobsPerSecond = rate,
            PercentOfDrain = percent,
            Jobs = total,
            AcceptedJobsPerSecond = Math.Round(total / submitSeconds),
            LatencyP50Ms = Math.Round(Percentile(latencies, 0.50), 2),
            LatencyP99Ms = Math.Round(Percentile(latencies, 0.99), 2),
            LatencyP999Ms = Math.Round(Percentile(latencies, 0.999), 2),
            LatencyMaxMs = Math.Round(latencies[^1], 2),
            DatabaseCpuSecondsPer1000Jobs = cpu is { } c ? Math.Round(c / total * 1000, 4) : null,
            ProcessCpuSecondsPer1000Jobs = Math.Round(process.Cpu.TotalSeconds / total * 1000, 4),
        };
    }

    /// <summary>A real server on 127.0.0.1 with Gantry's API, and beside it a minimal endpoint doing the same one-job insert.</summary>
    private async Task<(WebApplication App, HttpClient Http)> StartApiAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(store);
        // As `gantry server` beside workers that serve the app's types: the API knows the built-in types, and learns the
        // rest from the workers registered in the store.
        builder.Services.AddGantryApi(new ApiOptions { KnownJobTypes = Gantry.Worker.Handlers.BuiltIn.BuiltInHandlers.Types });
        var app = builder.Build();
        app.MapGantryApi();
        // The yardstick: the same insert (one job through the store's enqueue) behind the least ASP.NET Core offers.
        app.MapPost("/minimal", async (HttpRequest request, CancellationToken token) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: token).ConfigureAwait(false);
            var job = new NewJob { Id = JobIds.New(), Type = JobType, Payload = body.RootElement.GetProperty("payload").GetRawText() };
            await store.JobEnqueueManyAsync(new JobEnqueueParams([job]), token).ConfigureAwait(false);
            return Results.Text(job.Id.ToString(), statusCode: StatusCodes.Status201Created);
        });
        await app.StartAsync(ct).ConfigureAwait(false);
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = MaxInFlight, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/"),
        };
        return (app, http);
    }

    /// <summary>
    /// <see cref="Submitters"/> closed-loop submitters (each sends its next job when the last one is answered), for
    /// the ceiling window each, alternating Gantry's API and the minimal endpoint three times, the worker draining meanwhile.
    /// </summary>
    private async Task<SubmitCeiling> CeilingAsync(HttpClient http, CancellationToken ct)
    {
        var api = new List<(double Rate, double[] Calls)>();
        var minimal = new List<(double Rate, double[] Calls)>();
        for (var round = 0; round < 3; round++)
            foreach (var (path, into) in new[] { ("api/v1/jobs", api), ("minimal", minimal) })
            {
                progress($"submit ceiling: {Submitters} submitters to /{path} for {ceilingWindow.TotalSeconds:0}s (round {round + 1} of 3)");
                into.Add(await ClosedLoopAsync(http, path, ceilingWindow, ct).ConfigureAwait(false));
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false); // its jobs run out
            }
        static (double Rate, double P50, double P99) Summary(List<(double Rate, double[] Calls)> runs)
        {
            var median = runs.OrderBy(r => r.Rate).ElementAt(runs.Count / 2);
            return (Math.Round(median.Rate), Math.Round(Percentile(median.Calls, 0.5), 2), Math.Round(Percentile(median.Calls, 0.99), 2));
        }
        var (a, aP50, aP99) = Summary(api);
        var (m, mP50, mP99) = Summary(minimal);
        return new SubmitCeiling
        {
            Submitters = Submitters,
            ApiJobsPerSecond = a,
            ApiCallP50Ms = aP50,
            ApiCallP99Ms = aP99,
            MinimalJobsPerSecond = m,
            MinimalCallP50Ms = mP50,
            MinimalCallP99Ms = mP99,
            ApiRounds = [.. api.Select(r => Math.Round(r.Rate))],
            MinimalRounds = [.. minimal.Select(r => Math.Round(r.Rate))],
        };
    }

    private static async Task<(double Rate, double[] Calls)> ClosedLoopAsync(HttpClient http, string path, TimeSpan window, CancellationToken ct)
    {
        var calls = new ConcurrentBag<double>();
        var until = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Submitters).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                var sent = Stopwatch.GetTimestamp();
                using var content = new StringContent(Document(LoadProbe.NotTimed), System.Text.Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(path, content, ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) throw new GantryException($"POST /{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
                calls.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        }, ct))).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var sorted = calls.ToArray();
        Array.Sort(sorted);
        return (sorted.Length / seconds, sorted);
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "unknown"; }
    }

    /// <summary>Each job's scheduled arrival (from its payload) as its handler starts, and the latency to its success committed.</summary>
    internal sealed class LoadProbe
    {
        private readonly ConcurrentDictionary<Guid, long> _arrivals = new();
        private readonly List<double> _latencies = [];
        private TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _expected, _finished;

        public Task Expect(int jobs)
        {
            _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _finished, 0);
            Volatile.Write(ref _expected, jobs);
            return _all.Task;
        }

        /// <summary>The arrival of a job whose latency is not counted (the submit ceiling's).</summary>
        public const long NotTimed = 0;

        public void Started(Guid job, long arrival)
        {
            if (arrival != NotTimed) _arrivals[job] = arrival;
        }

        public void Finished(Guid job, long at)
        {
            if (!_arrivals.TryRemove(job, out var arrival)) return;
            lock (_latencies) _latencies.Add(Stopwatch.GetElapsedTime(arrival, at).TotalMilliseconds);
            if (Interlocked.Increment(ref _finished) == Volatile.Read(ref _expected)) _all.TrySetResult();
        }

        public double[] TakeLatencies()
        {
            lock (_latencies)
            {
                var all = _latencies.ToArray();
                _latencies.Clear();
                return all;
            }
        }
    }

    internal sealed class LoadHandler(LoadProbe probe) : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context)
        {
            probe.Started(context.JobId, payload.GetProperty("t").GetInt64());
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>How the offered load arrives: each job in its own API call, or gathered into one enqueue call every 10 ms.</summary>
public enum LoadSubmit { Api, Batch }

/// <summary>What <c>gantry bench load --json</c> prints.</summary>
public sealed record LoadBenchResult
{
    public required string Store { get; init; }
    public required string Submit { get; init; }
    public required int Concurrency { get; init; }
    /// <summary>The worker's drain rate on a backlog of 20,000 no-op jobs, measured first on the same store.</summary>
    public required double DrainJobsPerSecond { get; init; }
    /// <summary>What the levels' percentages are of: the drain rate, or with API submits the API's submit ceiling when it is lower.</summary>
    public required string PercentOf { get; init; }
    public required double SecondsPerLevel { get; init; }
    /// <summary>What the database CPU figures are, or why there are none.</summary>
    public required string DatabaseCpu { get; init; }
    public required LoadLevel[] Levels { get; init; }
    /// <summary>With API submits: the closed-loop submit rate through the API and through a minimal endpoint.</summary>
    public SubmitCeiling? Ceiling { get; init; }
    public required string Machine { get; init; }
}

/// <summary>One offered rate: latency from each job's scheduled arrival to its success committed.</summary>
public sealed record LoadLevel
{
    public required double OfferedJobsPerSecond { get; init; }
    public double? PercentOfDrain { get; init; }
    public required int Jobs { get; init; }
    /// <summary>Jobs over the time the submits took: below the offered rate when submitting fell behind.</summary>
    public required double AcceptedJobsPerSecond { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double LatencyP999Ms { get; init; }
    public required double LatencyMaxMs { get; init; }
    public double? DatabaseCpuSecondsPer1000Jobs { get; init; }
    /// <summary>This process's CPU (the worker, the submitters, the API server, and on SQLite the database itself).</summary>
    public required double ProcessCpuSecondsPer1000Jobs { get; init; }
}

/// <summary><see cref="LoadBench.Submitters"/> closed-loop submitters against the API and against a minimal endpoint (median of three runs each).</summary>
public sealed record SubmitCeiling
{
    public required int Submitters { get; init; }
    public required double ApiJobsPerSecond { get; init; }
    public required double ApiCallP50Ms { get; init; }
    public required double ApiCallP99Ms { get; init; }
    public required double MinimalJobsPerSecond { get; init; }
    public required double MinimalCallP50Ms { get; init; }
    public required double MinimalCallP99Ms { get; init; }
    public required double[] ApiRounds { get; init; }
    public required double[] MinimalRounds { get; init; }
}
