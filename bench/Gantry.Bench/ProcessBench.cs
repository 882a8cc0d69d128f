using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gantry.Hosting;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Telemetry;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Handlers.Process;
using Gantry.Worker.Isolation;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Bench;

/// <summary>
/// The overhead of a process handler: an attempt's run time (the worker's own <see cref="GantryMetrics.RunDuration"/>, start
/// of the attempt to its result), for a trivial Python program, with and without resource limits (the cgroup costs its
/// creation and removal). A real worker on a temporary SQLite store runs the attempts, one job at a time.
/// </summary>
public sealed class ProcessBench(int samples, Action<string> progress)
{
    private const string Plain = "bench-process";
    private const string Limited = "bench-process-limited";

    private const string Script = """
        import json, sys
        job = json.load(sys.stdin)
        print(json.dumps({"result": job["attempt"]}))
        """;

    public async Task<ProcessBenchResult> RunAsync(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("gantry-bench-process-");
        try
        {
            var script = Path.Combine(dir.FullName, "trivial.py");
            await File.WriteAllTextAsync(script, Script, ct).ConfigureAwait(false);
            var env = new[] { "PATH", "HOME", "LANG", "PYENV_ROOT" };
            var plain = new ProcessHandlerSpec { Command = [Python, script], Env = env };
            var limited = plain with { Limits = new ProcessLimits { MemoryMb = 128, Processes = 32, Cpu = 1 } };
            await using var store = await Stores.OpenAsync(new SqliteLocation(Path.Combine(dir.FullName, "bench.db")), createIfMissing: true, ct).ConfigureAwait(false);
            var services = new ServiceCollection().AddGantryProcessHandler(Plain, plain).AddGantryProcessHandler(Limited, limited).BuildServiceProvider();
            await using var _ = services.ConfigureAwait(false);
            var link = new CountingLink(new StoreWorkerLink(store), 0);
            await using var worker = new GantryWorker(link, new WorkerOptions { Queues = new Dictionary<string, int> { ["default"] = 1 } }, services);
            await worker.StartAsync(ct).ConfigureAwait(false);

            progress($"{Python}, no limits, {samples} runs");
            var (p50, p99) = await MeasureAsync(store, link, Plain, ct).ConfigureAwait(false);
            progress($"python3 with memory, cpu and process limits ({ProcessIsolation.Description}), {samples} runs");
            var (lp50, lp99) = await MeasureAsync(store, link, Limited, ct).ConfigureAwait(false);
            progress($"python3 started bare, for reference, {samples} runs");
            var (bp50, bp99) = await MeasureBareAsync(script, ct).ConfigureAwait(false);
            await worker.StopAsync(ct).ConfigureAwait(false);
            return new ProcessBenchResult
            {
                Samples = samples,
                Isolation = ProcessIsolation.Description,
                ProcessP50Ms = p50, ProcessP99Ms = p99,
                LimitedP50Ms = lp50, LimitedP99Ms = lp99,
                BareP50Ms = bp50, BareP99Ms = bp99,
            };
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The system's interpreter when there is one: a version manager's shim (pyenv) adds 100 ms of its own.</summary>
    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Runs <c>samples</c> jobs of <paramref name="type"/>, each once the one before has succeeded: their run times.</summary>
    private async Task<(double P50, double P99)> MeasureAsync(IJobStore store, CountingLink link, string type, CancellationToken ct)
    {
        var times = new List<double>(samples);
        using var listener = new MeterListener();
        // Read before the listener starts: the first read initializes the meter, publishing its instruments to the listener
        // while the field is not yet set.
        var runDuration = GantryMetrics.RunDuration;
        listener.InstrumentPublished = (instrument, l) => { if (instrument == runDuration) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "type", Value: string t } && t == type)
                    lock (times) times.Add(seconds * 1000);
        });
        listener.Start();
        for (var i = 0; i < samples; i++)
        {
            link.Expect(1);
            await store.JobEnqueueManyAsync(new JobEnqueueParams([new NewJob { Id = JobIds.New(), Type = type }]), ct).ConfigureAwait(false);
            await link.AllSucceeded.WaitAsync(TimeSpan.FromMinutes(1), ct).ConfigureAwait(false);
        }
        double[] sorted;
        lock (times) sorted = [.. times];
        if (sorted.Length != samples) throw new GantryException($"the worker timed {sorted.Length} of {samples} attempts of {type}");
        return Percentiles(sorted);
    }

    /// <summary>The same program run by Process.Start with the same input: what any runner would pay.</summary>
    private async Task<(double P50, double P99)> MeasureBareAsync(string script, CancellationToken ct)
    {
        var times = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var p = Process.Start(new ProcessStartInfo(Python, script) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            await p.StandardInput.WriteLineAsync("""{"attempt": 1, "payload": {}}""").ConfigureAwait(false);
            p.StandardInput.Close();
            await p.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Percentiles(times);
    }

    private static (double, double) Percentiles(double[] times)
    {
        Array.Sort(times);
        double At(double p) => Math.Round(times[Math.Clamp((int)Math.Ceiling(p * times.Length) - 1, 0, times.Length - 1)], 2);
        return (At(0.50), At(0.99));
    }
}

public sealed record ProcessBenchResult
{
    public required int Samples { get; init; }
    public required string Isolation { get; init; }
    public required double ProcessP50Ms { get; init; }
    public required double ProcessP99Ms { get; init; }
    public required double LimitedP50Ms { get; init; }
    public required double LimitedP99Ms { get; init; }
    public required double BareP50Ms { get; init; }
    public required double BareP99Ms { get; init; }
}
