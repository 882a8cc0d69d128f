using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Gantry.Cli.Tests;

/// <summary>A real `gantry` process started from the built CLI, with its output captured.</summary>
internal sealed partial class GantryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _waiters = new();

    private GantryProcess(Process process) => _process = process;

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    /// <summary>The API's address from the start banner (<c>api  http://…</c>); empty until it is printed.</summary>
    public string ApiUrl => ApiBanner().Match(Stdout).Groups[1].Value;

    [System.Text.RegularExpressions.GeneratedRegex(@"api\s+(http://\S+)")]
    private static partial System.Text.RegularExpressions.Regex ApiBanner();
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public string Output => Stdout + Stderr;

    /// <summary>The built CLI: artifacts/bin/Gantry.Cli/debug/gantry.dll under the repository root.</summary>
    public static string CliPath => Built("Gantry.Cli", "gantry.dll");

    /// <summary>A program built beside the tests, under artifacts/bin.</summary>
    public static string Built(string project, string dll)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gantry.slnx"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("cannot find the repository root (Gantry.slnx) above " + AppContext.BaseDirectory);
        var config = AppContext.BaseDirectory.Contains("/release/", StringComparison.OrdinalIgnoreCase) ? "release" : "debug";
        var path = Path.Combine(dir.FullName, "artifacts", "bin", project, config, dll);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{project} is not built: {path}");
    }

    /// <summary>Any program (a sample in another language), with its output captured the same way.</summary>
    public static GantryProcess StartProgram(string workingDirectory, string program, string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var started = new GantryProcess(process);
        process.OutputDataReceived += (_, e) => started.Append(started._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => started.Append(started._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    public static GantryProcess Start(string workingDirectory, params string[] args) => StartDll(workingDirectory, CliPath, args);

    public static GantryProcess StartDll(string workingDirectory, string dll, params string[] args) => StartDll(workingDirectory, dll, args, []);

    /// <summary>Starts with extra environment variables. <paramref name="dll"/> may also be a native executable (a Native AOT
    /// build), started as it is.</summary>
    public static GantryProcess StartDll(string workingDirectory, string dll, string[] args, (string Name, string Value)[] env)
    {
        var native = !dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var info = new ProcessStartInfo(native ? dll : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (!native) info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_NOLOGO"] = "1";
        // Many gantry processes run at once in the tests: each API gets a port of its own.
        info.Environment["GANTRY_LISTEN"] = "127.0.0.1:0";
        info.Environment.Remove("GANTRY_TOKENS");
        info.Environment.Remove("GANTRY_DB");
        info.Environment.Remove("GANTRY_STORE");
        foreach (var (name, value) in env) info.Environment[name] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var gantry = new GantryProcess(process);
        process.OutputDataReceived += (_, e) => gantry.Append(gantry._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => gantry.Append(gantry._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return gantry;
    }

    /// <summary>Runs a command to completion (a minute at most) and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, string? stdin, params string[] args) =>
        RunAsync(workingDirectory, stdin, args, env: []);

    /// <summary>The same, with extra environment variables.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, string? stdin, string[] args, params (string Name, string Value)[] env) =>
        RunAsync(workingDirectory, stdin, TimeSpan.FromMinutes(1), args, env);

    /// <summary>Runs a command that takes long by design (a benchmark that counts for a set time) to completion, within
    /// <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, string? stdin, TimeSpan timeout, string[] args,
        params (string Name, string Value)[] env)
    {
        await using var p = StartDll(workingDirectory, CliPath, args, env);
        if (stdin is not null) await p._process.StandardInput.WriteAsync(stdin);
        p._process.StandardInput.Close();
        var code = await p.WaitForExitAsync(timeout);
        return (code, p.Stdout, p.Stderr);
    }

    private void Append(StringBuilder sb, string? line)
    {
        if (line is null) return;
        lock (sb) sb.AppendLine(line);
        while (_waiters.TryDequeue(out var w)) w.TrySetResult();
    }

    /// <summary>Waits until the output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited && !Output.Contains(text, StringComparison.Ordinal))
                throw new InvalidOperationException($"gantry exited ({_process.ExitCode}) before printing '{text}'. Output:\n{Output}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gantry did not print '{text}' within {timeout}. Output:\n{Output}");
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(tcs);
            await Task.WhenAny(tcs.Task, Task.Delay(100));
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"gantry did not exit within {timeout}. Output:\n{Output}");
        }
        return _process.ExitCode;
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
    }

    /// <summary>Sends a signal to any process (a node's worker); false when it is gone.</summary>
    public static bool SignalPid(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigInt = 2;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
