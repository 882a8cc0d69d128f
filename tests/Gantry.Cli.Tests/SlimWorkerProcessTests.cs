using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Tests;

/// <summary>`gantry-worker`, the worker command without the web host: it drains, stops and refuses as `gantry worker` does,
/// never loads ASP.NET Core, and a node runs its workers with it.</summary>
[RunsLong(15)]
public sealed class SlimWorkerProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The JIT build beside the tests; its apphost (no .dll) is what a node is given.</summary>
    private static string WorkerDll => GantryProcess.Built("Gantry.Cli.Worker", "gantry-worker.dll");
    private static string WorkerApphost => GantryProcess.Built("Gantry.Cli.Worker", "gantry-worker");

    private async Task<Guid[]> EnqueueNoopsAsync(int count)
    {
        var jobs = Enumerable.Range(0, count).Select(_ => new NewJob { Id = JobIds.New(), Type = "noop" }).ToArray();
        await StoreProbe.WithStoreAsync(_dir.Db, s => s.JobEnqueueManyAsync(new JobEnqueueParams(jobs), CancellationToken.None));
        return [.. jobs.Select(j => j.Id)];
    }

    private async Task WaitAllSucceededAsync(Guid[] ids)
    {
        foreach (var id in ids) await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State == JobState.Succeeded, Generous, "succeeded");
    }

    [Fact]
    public async Task SlimWorker_DrainsSqliteJobs_LoadsNoAspNetCore_StopsOnSigTermWithExit0()
    {
        var ids = await EnqueueNoopsAsync(50);
        // Without the word `worker`: the flags alone.
        await using var worker = GantryProcess.StartDll(_dir.Path, WorkerDll, "--db", _dir.Db, "--poll-interval", "50ms");
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains("worker running", worker.Stdout, StringComparison.Ordinal);
        await WaitAllSucceededAsync(ids);

        // The assemblies the process has mapped: its own, and none of ASP.NET Core's (Microsoft.Extensions.* come from
        // the same shared-framework folder; they are the generic host's).
        var mapped = (await File.ReadAllLinesAsync($"/proc/{worker.Pid}/maps")).Select(l => Path.GetFileName(l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last())).ToHashSet();
        Assert.Contains("Gantry.Worker.dll", mapped);
        Assert.DoesNotContain(mapped, f => f.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal));

        worker.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await worker.WaitForExitAsync(Generous));
        Assert.Contains("Gantry worker stopped.", worker.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "worker", "--bogus" }, 2, "gantry: Unrecognized command or argument '--bogus'.")]
    [InlineData(new[] { "--capacity", "0" }, 2, "--capacity")]
    [InlineData(new[] { "worker", "--metrics-listen", "127.0.0.1:0" }, 1,
        "gantry: --metrics-listen: serving /metrics over HTTP needs ASP.NET Core, which gantry-worker leaves out to stay small: use `gantry worker` for it")]
    public async Task SlimWorker_BadInput_OneLineAndNonZeroExit_NothingStarted(string[] args, int exitCode, string expected)
    {
        await using var worker = GantryProcess.StartDll(_dir.Path, WorkerDll, [.. args, "--db", _dir.Db], []);
        Assert.Equal(exitCode, await worker.WaitForExitAsync(Generous));
        Assert.Contains(expected, worker.Stderr, StringComparison.Ordinal);
        // One line, a usage error's included (it ends saying where help is).
        Assert.Single(worker.Stderr.Trim().Split('\n'));
        if (exitCode == 2) Assert.Contains("--help)", worker.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("running", worker.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_WorkerBinary_SlimWorker_RunsItsJobs()
    {
        var runDir = _dir.File("run");
        await using var node = GantryProcess.Start(_dir.Path, "node", "--db", _dir.Db, "--run-dir", runDir, "--workers", "1", "--poll-interval", "50ms",
            "--worker-binary", WorkerApphost);
        await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var ids = await EnqueueNoopsAsync(20);
        await WaitAllSucceededAsync(ids);

        // The job ran in a worker process started from gantry-worker.
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "status", "--run-dir", runDir, "--json");
        Assert.True(code == 0, stderr);
        var pid = JsonDocument.Parse(stdout).RootElement.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        var commandLine = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
        Assert.Equal(WorkerApphost, commandLine[0]);
        Assert.Equal("worker", commandLine[1]);

        node.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await node.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task BenchMemory_WorkerBinary_TheWorkerRowsRunIt_TheOutputNamesBoth()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            ["bench", "memory", "--store", "sqlite:" + _dir.Db, "--jobs", "200", "--command-runs", "1", "--worker-binary", WorkerApphost, "--json"]);

        Assert.True(code == 0, stderr + stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(WorkerApphost, root.GetProperty("worker_executable").GetString());
        Assert.Contains("gantry.dll", root.GetProperty("executable").GetString(), StringComparison.Ordinal);
        Assert.InRange(root.GetProperty("worker_drained_rss_mib").GetDouble(), 1, 2048);
        var stats = await StoreProbe.WithStoreAsync(_dir.Db, s => s.QueueStatsAsync(CancellationToken.None));
        Assert.Equal(200, stats.Single(q => q.Queue == "default").Counts.GetValueOrDefault(JobState.Succeeded));
    }

    [Theory]
    [InlineData("no-such-gantry-worker", "does not exist")]
    [InlineData("not-executable", "is not executable")]
    public async Task Node_WorkerBinary_MissingOrNotExecutable_OneLine(string name, string expected)
    {
        await File.WriteAllTextAsync(_dir.File("not-executable"), "");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--worker-binary", _dir.File(name));
        Assert.Equal(1, code);
        Assert.Contains($"--worker-binary: {_dir.File(name)} {expected}", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
