using System.Diagnostics;

namespace Gantry.Bench;

/// <summary>
/// A real <c>gantry</c> process a bench starts: its last lines of output (to say why, if it ends
/// early), when it is up (it printed its banner), its memory, and a clean stop (SIGTERM, then SIGKILL after 30 s).
/// </summary>
internal sealed class BenchProcess : IDisposable
{
    private const string Banner = "Press Ctrl-C to stop.";
    private readonly string _command;
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startedAt;

    private BenchProcess(string command, Process process, long startedAt)
    {
        _command = command;
        _startedAt = startedAt;
        Process = process;
    }

    public Process Process { get; }

    /// <summary>Milliseconds from the start of the process to its banner; null until it printed it.</summary>
    public double? StartupMs { get; private set; }

    /// <summary>
    /// Starts <c>gantry <paramref name="command"/> <paramref name="args"/></c> from <paramref name="executable"/> (a gantry
    /// program and its leading arguments) with <paramref name="environment"/> added.
    /// </summary>
    public static BenchProcess Start(IReadOnlyList<string> executable, IReadOnlyDictionary<string, string> environment, string command, params string[] args)
    {
        var info = StartInfo(executable, environment, [command, .. args]);
        var startedAt = Stopwatch.GetTimestamp();
        var p = Process.Start(info) ?? throw new GantryException($"could not start gantry {command}");
        var started = new BenchProcess(command, p, startedAt);
        p.OutputDataReceived += (_, e) => started.Line(e.Data);
        p.ErrorDataReceived += (_, e) => started.Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return started;
    }

    /// <summary>
    /// <paramref name="executable"/> (a gantry program and its leading arguments) with <paramref name="args"/> and
    /// <paramref name="environment"/> added, its output redirected.
    /// </summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> executable, IReadOnlyDictionary<string, string> environment, IEnumerable<string> args)
    {
        var self = executable;
        var info = new ProcessStartInfo(self[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in self.Skip(1).Concat(args)) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        return info;
    }

    private void Line(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > 5) _tail.Dequeue();
        }
        if (line.Contains(Banner, StringComparison.Ordinal) && !_up.Task.IsCompleted)
        {
            StartupMs ??= Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds;
            _up.TrySetResult();
        }
    }

    /// <summary>Waits until the process printed its banner (at most 2 minutes); throws if it ended first.</summary>
    public async Task UpAsync(CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        try { await Task.WhenAny(_up.Task, Process.WaitForExitAsync(limit.Token)).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        ct.ThrowIfCancellationRequested();
        if (!_up.Task.IsCompleted) ThrowEnded();
    }

    /// <summary>Throws if the process is no longer running: a figure taken with it gone would mean nothing.</summary>
    public void CheckAlive()
    {
        if (Process.HasExited) ThrowEnded();
    }

    private void ThrowEnded()
    {
        string tail;
        lock (_tail) tail = string.Join(" | ", _tail);
        throw new GantryException(Process.HasExited
            ? $"gantry {_command} exited ({Process.ExitCode}) during the run: {tail}"
            : $"gantry {_command} did not start within 2 minutes: {tail}");
    }

    /// <summary>The resident set now (VmRSS), in MiB.</summary>
    public double ResidentMiB() => Status("VmRSS:");

    /// <summary>The largest resident set so far (VmHWM), in MiB.</summary>
    public double PeakResidentMiB() => Status("VmHWM:");

    private double Status(string field)
    {
        CheckAlive();
        foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return Math.Round(long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024.0, 1);
        throw new GantryException($"/proc/{Process.Id}/status has no {field}");
    }

    /// <summary>Stops the process (SIGTERM; SIGKILL if it is still there after 30 s).</summary>
    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Terminate(Process.Id);
                if (!Process.WaitForExit(TimeSpan.FromSeconds(30))) Process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) { /* already reaped */ }
        Process.Dispose();
    }

    /// <summary>Asks a process to stop, as a person's <c>kill</c> does (SIGTERM): .NET can send only SIGKILL to another process.</summary>
    private static void Terminate(int pid) => _ = Kill(pid, SigTerm);

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
