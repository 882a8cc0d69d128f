using System.Text.RegularExpressions;
using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary>A real `gantry worker` and `gantry node` stopped with SIGTERM log one line with what they ran and for how
/// long; `jobs cancel --now` reaches a running job over the store and over the node's IPC.</summary>
public sealed partial class ExitSummaryProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex(@"(Worker|Node) \S+ stopped after [\dhms.]+: (?:its workers )?ran (\d+) succeeded, (\d+) failed, (\d+) cancelled, (\d+) requeued")]
    private static partial Regex SummaryLine();

    /// <summary>Runs one job of each outcome (one cancelled with --now, one requeued by the stop) and stops with SIGTERM.</summary>
    private async Task RunEachOutcomeAndStopAsync(GantryProcess process)
    {
        await process.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var done = await QuickRun.SubmitAsync(_dir, "echo", """{"a":1}""");
        var failed = await QuickRun.SubmitAsync(_dir, "fail", "--max-attempts", "1");
        await StoreProbe.WaitForAsync(_dir.Db, done, j => j.State == JobState.Succeeded, Generous, "succeeded");
        await StoreProbe.WaitForAsync(_dir.Db, failed, j => j.State == JobState.Dead, Generous, "dead");

        var cancelled = await QuickRun.SubmitAsync(_dir, "sleep", """{"ms":120000}""");
        await StoreProbe.WaitForAsync(_dir.Db, cancelled, j => j.State == JobState.Running, Generous, "running");
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "cancel", cancelled.ToString(), "--now", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("asked to stop", stdout, StringComparison.Ordinal);
        await StoreProbe.WaitForAsync(_dir.Db, cancelled, j => j.State == JobState.Cancelled, Generous, "cancelled");

        var requeued = await QuickRun.SubmitAsync(_dir, "sleep", """{"ms":120000}""");
        await StoreProbe.WaitForAsync(_dir.Db, requeued, j => j.State == JobState.Running, Generous, "running");
        process.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await process.WaitForExitAsync(Generous));
        Assert.Equal(JobState.Queued, (await StoreProbe.GetAsync(_dir.Db, requeued))!.State);
    }

    /// <summary>A node's output carries its worker process's own line too: each logs one of its own.</summary>
    private static void AssertOneSummary(GantryProcess process, string who)
    {
        var line = Assert.Single(SummaryLine().Matches(process.Output), m => m.Groups[1].Value == who);
        Assert.Equal(["1", "1", "1", "1"], line.Groups.Values.Skip(2).Select(g => g.Value));
    }

    [Fact]
    public async Task Worker_SigTerm_LogsOneLineWithWhatItRan()
    {
        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--db", _dir.Db, "--poll-interval", "50ms", "--drain-timeout", "1s");
        await RunEachOutcomeAndStopAsync(worker);
        AssertOneSummary(worker, "Worker");
    }

    [Fact]
    public async Task Node_SigTerm_LogsOneLineWithWhatItsWorkersRan()
    {
        await using var node = GantryProcess.Start(_dir.Path, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--workers", "1",
            "--heartbeat-interval", "500ms", "--poll-interval", "50ms", "--drain-timeout", "1s");
        await RunEachOutcomeAndStopAsync(node);
        AssertOneSummary(node, "Node");
        AssertOneSummary(node, "Worker");
    }
}
