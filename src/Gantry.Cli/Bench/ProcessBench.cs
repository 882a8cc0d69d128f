using System.Diagnostics;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Worker.Handlers.Process;
using Gantry.Worker.Isolation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Cli.Bench;

/// <summary>
/// The overhead of a process handler: from the start of an attempt to its result, for a trivial
/// Python program, with and without resource limits (the cgroup costs its creation and removal).
/// </summary>
internal sealed class ProcessBench(int samples, Action<string> progress)
{
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

            progress($"{Python}, no limits, {samples} runs");
            var (p50, p99) = await MeasureAsync(plain, ct).ConfigureAwait(false);
            progress($"python3 with memory, cpu and process limits ({ProcessIsolation.Description}), {samples} runs");
            var (lp50, lp99) = await MeasureAsync(limited, ct).ConfigureAwait(false);
            progress($"python3 started bare, for reference, {samples} runs");
            var (bp50, bp99) = await MeasureBareAsync(script, ct).ConfigureAwait(false);
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

    private async Task<(double P50, double P99)> MeasureAsync(ProcessHandlerSpec spec, CancellationToken ct)
    {
        var runner = new ProcessJobRunner("bench", spec, SandboxFactory.Current);
        var times = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            var context = new BenchContext(i + 1);
            var start = Stopwatch.GetTimestamp();
            var result = await runner.RunAsync(context, ct).ConfigureAwait(false);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (result != (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))
                throw new InvalidOperationException($"the trivial handler answered {result}");
        }
        return Percentiles(times);
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

    private sealed class BenchContext(int attempt) : JobContext
    {
        private static readonly JsonElement EmptyPayload = JsonDocument.Parse("{}").RootElement;
        public override Guid JobId { get; } = Guid.CreateVersion7();
        public override string Type => "bench";
        public override string Queue => "default";
        public override int Attempt => attempt;
        public override int MaxAttempts => int.MaxValue;
        public override IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>();
        public override JsonElement Payload => EmptyPayload;
        public override CancellationToken CancellationToken => CancellationToken.None;
        public override CancelReason CancelReason => CancelReason.None;
        public override ILogger Logger => NullLogger.Instance;
        public override ValueTask ReportProgressAsync(double percent, string? message = null) => ValueTask.CompletedTask;
        public override ReadOnlyMemory<byte>? Checkpoint => null;
        public override ValueTask SaveCheckpointAsync(object? state) => ValueTask.CompletedTask;
    }
}

internal sealed record ProcessBenchResult
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
