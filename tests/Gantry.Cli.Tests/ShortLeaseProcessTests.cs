using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary>
/// A short <c>--lease-duration</c> alone is enough: the heartbeat, when not given, is derived from the
/// lease (a node's too, and its workers get the node's). Only a heartbeat given explicitly that the lease cannot hold is refused.
/// </summary>
public sealed class ShortLeaseProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("run")]
    [InlineData("node")]
    public async Task LeaseDurationAlone_StartsAndRunsAJob(string command)
    {
        string[] node = command == "node" ? ["--run-dir", _dir.File("run"), "--workers", "1"] : [];
        await using var gantry = GantryProcess.Start(_dir.Path, [command, "--db", _dir.Db, .. node, "--lease-duration", "6s"]);
        await gantry.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var id = await QuickRun.SubmitAsync(_dir, "echo", "{}");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State == JobState.Succeeded, Generous, "succeeded");
    }

    [Theory]
    [InlineData("run", "gantry: --lease-duration: (6s) must be at least the heartbeat interval (5s) plus 3s")]
    [InlineData("node", "--lease-duration: (6s) must be at least twice the heartbeat interval (2s) plus 3s")]
    public async Task HeartbeatGivenThatTheLeaseCannotHold_RefusedAtStart(string command, string message)
    {
        string[] node = command == "node" ? ["--run-dir", _dir.File("run"), "--heartbeat-interval", "2s"] : ["--heartbeat-interval", "5s"];
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, [command, "--db", _dir.Db, .. node, "--lease-duration", "6s"]);

        Assert.Equal(1, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(_dir.Db), stdout);
    }
}
