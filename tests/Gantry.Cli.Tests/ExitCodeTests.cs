namespace Gantry.Cli.Tests;

/// <summary>Every command that waits for a job to end exits by one rule: 0 succeeded, 3 dead, 4 cancelled.</summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Gantry(params string[] args) => GantryProcess.RunAsync(_dir.Path, null, args);

    [Fact]
    public async Task Follow_JobCancelledWhileFollowed_ExitsAsSubmitWaitDoes()
    {
        // No worker: the job waits an hour, and is cancelled while a follower and a waiter watch it.
        var (_, stdout, _) = await Gantry("submit", "echo", "--delay", "1h", "--db", _dir.Db);
        var id = stdout.Trim();
        await using var follower = GantryProcess.Start(_dir.Path, "jobs", "show", id, "--follow", "--db", _dir.Db);
        await Task.Delay(500);
        Assert.False(follower.HasExited, follower.Output);
        var (cancel, _, err) = await Gantry("jobs", "cancel", id, "--db", _dir.Db);
        Assert.True(cancel == 0, err);
        Assert.Equal(4, await follower.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("cancelled", follower.Stdout, StringComparison.Ordinal);

        // Following a job that has ended already says the same; showing it without --follow is a query (0).
        Assert.Equal(4, (await Gantry("jobs", "show", id, "--follow", "--db", _dir.Db)).ExitCode);
        Assert.Equal(4, (await Gantry("jobs", "show", id, "--follow", "--json", "--db", _dir.Db)).ExitCode);
        Assert.Equal(0, (await Gantry("jobs", "show", id, "--db", _dir.Db)).ExitCode);
    }

    [Fact]
    public async Task Follow_DeadAndSucceededJobs_ExitAsSubmitWaitDoes()
    {
        await using var run = QuickRun.Start(_dir, "--listen", "off");
        var (dead, deadOut, _) = await Gantry("submit", "fail", "--max-attempts", "1", "--wait", "--json", "--db", _dir.Db);
        var (ok, okOut, _) = await Gantry("submit", "echo", "--wait", "--json", "--db", _dir.Db);
        Assert.Equal(3, dead);
        Assert.Equal(0, ok);
        var deadId = System.Text.Json.JsonDocument.Parse(deadOut).RootElement.GetProperty("id").GetString()!;
        var okId = System.Text.Json.JsonDocument.Parse(okOut).RootElement.GetProperty("id").GetString()!;
        Assert.Equal(3, (await Gantry("jobs", "show", deadId, "--follow", "--db", _dir.Db)).ExitCode);
        Assert.Equal(0, (await Gantry("jobs", "show", okId, "--follow", "--db", _dir.Db)).ExitCode);
    }
}
