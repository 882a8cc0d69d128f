using System.Buffers;
using System.Text;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Execution;
using Gantry.Worker.Isolation;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Handlers.Process;

/// <summary>
/// Runs one attempt of a process handler: the job context goes in on stdin as one JSON document,
/// JSON lines come out on stdout (progress, result, log, checkpoint), stderr lines are kept as
/// logs, and the exit status decides the outcome. The program runs in its own session (so the
/// whole tree can be signalled), where possible in its own cgroup, joined before it starts, and
/// dies with the worker (<see cref="ProcessLauncher"/>, <see cref="ChildProcess"/>).
/// Cancellation sends SIGTERM to the tree, then SIGKILL after <see cref="KillGrace"/>; an attempt abandoned
/// without grace (<see cref="WorkerJobContext.AbandonToken"/>, <c>cancel --now</c>) gets SIGKILL at once.
/// </summary>
internal sealed class ProcessJobRunner(string jobType, ProcessHandlerSpec spec, SandboxFactory sandboxes)
{
    /// <summary>Between SIGTERM and SIGKILL.</summary>
    public static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(2);
    private const int StderrLinesKept = 20;

    public async ValueTask<string?> RunAsync(JobContext context, CancellationToken ct)
    {
        sandboxes.SweepDeadOwners(context.JobId); // What a dead worker's attempts left on this machine goes first.
        // The job's own limits tighten its type's; they never widen them.
        var limits = spec.Limits.Within(context is WorkerJobContext own ? own.Job.Limits : null);
        using var sandbox = sandboxes.Create(CgroupOwner.AttemptName(context.JobId, context.Attempt), limits);
        var (path, argv) = ProcessLauncher.Command(sandbox, spec.Command);
        var directory = spec.WorkingDirectory is { Length: > 0 } dir ? Path.GetFullPath(dir) : System.Environment.CurrentDirectory;
        ChildProcess process;
        try
        {
            process = await ChildProcess.StartAsync(path, argv, AllowedEnvironment(), directory).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new ProcessHandlerFailedException($"cannot start '{spec.Command[0]}' for job type '{jobType}': {ex.Message}");
        }
        using var _ = process;

        var output = new OutputBudget(limits.OutputKb * 1024L, context.Logger);
        var stdout = ReadStdoutAsync(new StreamReader(process.StandardOutput, Encoding.UTF8), context, output);
        var stderr = ReadStderrAsync(new StreamReader(process.StandardError, Encoding.UTF8), context.Logger, output);
        await using var onCancel = ct.Register(() => Terminate(process, sandbox));
        var abandoned = context is WorkerJobContext worker ? worker.AbandonToken : CancellationToken.None;
        await using var onAbandon = abandoned.Register(() => Kill(process, sandbox));
        try
        {
            await WriteContextAsync(process.StandardInput, context).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The program exited or closed stdin without reading it all: its exit code tells the rest.
        }

        var status = await process.Exited.ConfigureAwait(false);
        var memoryHit = !status.Succeeded && sandbox.MemoryLimitHit();
        var pidsHit = !status.Succeeded && !memoryHit && sandbox.PidsLimitHit();
        var usage = Usage(status, sandbox, memoryHit ? AttemptLimits.Memory : pidsHit ? AttemptLimits.Pids : null);
        if (context is WorkerJobContext attempt) attempt.Usage = usage;
        // Whatever the program left behind goes with it, before its output is read to the end: a child
        // still holding stdout open would otherwise hold the attempt forever.
        sandbox.KillAll();
        if (!sandboxes.IsCgroup) PosixSignals.ToGroup(process.Pid, PosixSignals.SigKill); // Without a cgroup, its session is what is left.
        var (result, ask) = await stdout.ConfigureAwait(false);
        var lastErrors = await stderr.ConfigureAwait(false);
        output.ReportCut();

        ct.ThrowIfCancellationRequested();
        if (status.Succeeded) return result;
        if (memoryHit)
            throw new ProcessHandlerFailedException($"limit hit: memory ({limits.MemoryMb} MB)");
        if (pidsHit)
            throw new ProcessHandlerFailedException($"limit hit: pids ({limits.Processes} processes){(lastErrors.Count > 0 ? ": " + lastErrors[^1] : "")}");
        if (status.Code == ProcessLauncher.CouldNotStart && sandbox.JoinFiles.Count > 0)
            throw new ProcessHandlerFailedException($"could not put the job's process into its cgroup ({string.Join(", ", sandbox.JoinFiles)})");
        var tail = lastErrors.Count > 0 ? ": " + string.Join(" | ", lastErrors) : "";
        var message = $"{Path.GetFileName(spec.Command[0])} {status}{tail}";
        // What the program said of its failure ({"retry": false}, {"retry_after": seconds}) goes the way a .NET handler's does.
        if (ask is { } asked) throw new JobFailedException(message, asked.Retry, asked.Retry ? asked.After : null);
        throw new ProcessHandlerFailedException(message);
    }

    /// <summary>
    /// What the attempt consumed, the cgroup's figures first (the whole tree, whatever it forked),
    /// else the kernel's accounting of the program and the children it waited for; and how it
    /// ended as the program's own status tells (a timeout or a cancel is decided by the worker).
    /// </summary>
    private static AttemptUsage Usage(ExitStatus status, IJobSandbox sandbox, string? limit)
    {
        var (cpu, peak) = sandbox.Usage();
        return new AttemptUsage
        {
            CpuSeconds = cpu ?? status.CpuSeconds,
            PeakMemoryBytes = peak ?? status.MaxRssBytes,
            Outcome = limit is not null || status.Signal == PosixSignals.SigXcpu ? AttemptOutcomes.LimitHit
                : status.Signal is not null ? AttemptOutcomes.Signaled : AttemptOutcomes.Exited,
            Limit = limit ?? (status.Signal == PosixSignals.SigXcpu ? AttemptLimits.Cpu : null),
            ExitCode = status.Code,
            Signal = status.Signal,
        };
    }

    /// <summary>Only what the configuration allows: the worker's own secrets stay behind.</summary>
    private List<string> AllowedEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in spec.Env)
            if (System.Environment.GetEnvironmentVariable(name) is { } value) env[name] = value;
        env.TryAdd("PATH", "/usr/local/bin:/usr/bin:/bin");
        // The attempt's span, for a program that traces (OpenTelemetry's environment carriers): its spans join the job's trace.
        if (Gantry.Telemetry.GantryTracing.CurrentContext() is (string parent, var state))
        {
            env["TRACEPARENT"] = parent;
            if (state is { Length: > 0 }) env["TRACESTATE"] = state;
        }
        return env.Select(e => $"{e.Key}={e.Value}").ToList();
    }

    private static async Task WriteContextAsync(Stream stdin, JobContext context)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", context.JobId);
            w.WriteString("type", context.Type);
            w.WriteString("queue", context.Queue);
            w.WriteNumber("attempt", context.Attempt);
            w.WriteNumber("max_attempts", context.MaxAttempts);
            w.WritePropertyName("payload");
            context.Payload.WriteTo(w);
            w.WriteStartObject("tags");
            foreach (var (k, v) in context.Tags) w.WriteString(k, v);
            w.WriteEndObject();
            // The checkpoint as it was saved: JSON stays JSON; other bytes travel as base64.
            // A workflow step's dependencies' results, by step name; empty for a plain job.
            w.WriteStartObject("dependencies");
            foreach (var (step, result) in context.DependencyResults)
            {
                w.WritePropertyName(step);
                result.WriteTo(w);
            }
            w.WriteEndObject();
            if (context.Checkpoint is not { } checkpoint) w.WriteNull("checkpoint");
            else if (IsJson(checkpoint.Span)) { w.WritePropertyName("checkpoint"); w.WriteRawValue(checkpoint.Span); }
            else w.WriteBase64String("checkpoint", checkpoint.Span);
            w.WriteEndObject();
        }
        await stdin.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
        await stdin.WriteAsync("\n"u8.ToArray()).ConfigureAwait(false);
        stdin.Close();
    }

    /// <summary>What a program asked of its failure, should it fail: no retry, or a retry after a delay.</summary>
    private readonly record struct FailureAsk(bool Retry, TimeSpan? After);

    /// <summary>Reads the JSON-lines protocol; returns the last result (JSON text), if any, and what the program asked of a failure.</summary>
    private static async Task<(string? Result, FailureAsk? Ask)> ReadStdoutAsync(StreamReader stdout, JobContext context, OutputBudget output)
    {
        string? result = null;
        FailureAsk? ask = null;
        while (await stdout.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0) continue;
            if (!TryParseObject(line, out var doc))
            {
                output.Log(LogLevel.Information, line, "stdout");
                continue;
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.TryGetProperty("result", out var r)) result = r.GetRawText();
                if (root.TryGetProperty("progress", out var p) && p.TryGetDouble(out var percent))
                    await context.ReportProgressAsync(percent, root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null).ConfigureAwait(false);
                if (root.TryGetProperty("log", out var log))
                    output.Log(LevelOf(root), log.ValueKind == JsonValueKind.String ? log.GetString()! : log.GetRawText(), "log");
                if (root.TryGetProperty("checkpoint", out var checkpoint))
                    await context.SaveCheckpointAsync(checkpoint.Clone()).ConfigureAwait(false);
                if (root.TryGetProperty("retry", out var retry) && retry.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    ask = new FailureAsk(retry.GetBoolean(), ask?.After);
                if (root.TryGetProperty("retry_after", out var after) && after.TryGetDouble(out var seconds) && seconds >= 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 2)
                    ask = new FailureAsk(ask?.Retry ?? true, TimeSpan.FromSeconds(seconds));
            }
        }
        return (result, ask);
    }

    private static async Task<List<string>> ReadStderrAsync(StreamReader stderr, ILogger logger, OutputBudget output)
    {
        var last = new Queue<string>();
        while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            output.Log(LogLevel.Information, line, "stderr");
            if (line.Trim().Length == 0) continue;
            last.Enqueue(line.Length > 300 ? line[..300] + "…" : line);
            if (last.Count > StderrLinesKept) last.Dequeue();
        }
        // The error message keeps the last few lines: a traceback's end says what went wrong.
        return last.TakeLast(5).ToList();
    }

    private static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes);
            reader.Read();
            reader.Skip();
            return !reader.Read(); // One value and nothing after it.
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryParseObject(string line, out JsonDocument doc)
    {
        doc = null!;
        if (!line.StartsWith('{')) return false;
        try
        {
            doc = JsonDocument.Parse(line);
            // A string escaping a lone surrogate is not text: such a line is kept as a plain log line, not read as a message.
            if (doc.RootElement.ValueKind == JsonValueKind.Object && Gantry.Protocol.TextFields.LoneSurrogateAt(doc.RootElement) is null) return true;
            doc.Dispose();
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static LogLevel LevelOf(JsonElement root) =>
        (root.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : "info")?.ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warn" or "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "critical" or "fatal" => LogLevel.Critical,
            _ => LogLevel.Information,
        };

    private static void Terminate(ChildProcess process, IJobSandbox sandbox)
    {
        process.SignalGroup(PosixSignals.SigTerm);
        _ = Task.Delay(KillGrace).ContinueWith(_ => Kill(process, sandbox), TaskScheduler.Default);
    }

    private static void Kill(ChildProcess process, IJobSandbox sandbox)
    {
        process.SignalGroup(PosixSignals.SigKill);
        sandbox.KillAll();
    }

    /// <summary>Logs output lines until the configured amount, then cuts, and says so once.</summary>
    private sealed class OutputBudget(long limitBytes, ILogger logger)
    {
        private long _used;
        private long _cut;

        public void Log(LogLevel level, string line, string source)
        {
            var bytes = Encoding.UTF8.GetByteCount(line) + 1;
            if (Interlocked.Add(ref _used, bytes) > limitBytes)
            {
                Interlocked.Add(ref _cut, bytes);
                return;
            }
#pragma warning disable CA1848, CA2254 // One dynamic line per output line, by design.
            logger.Log(level, "[{Source}] {Line}", source, line);
#pragma warning restore CA1848, CA2254
        }

        public void ReportCut()
        {
            if (_cut > 0)
                logger.LogWarning("Output cut at {LimitKb} KB: {CutBytes} more bytes were discarded", limitBytes / 1024, _cut);
        }
    }
}
