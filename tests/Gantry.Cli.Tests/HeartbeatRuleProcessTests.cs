
namespace Gantry.Cli.Tests;

/// <summary>A worker whose heartbeat is too seldom for the dead-worker timeout is refused where the two meet: at
/// registration with a server, and at start when one process runs both. (A server at 10 s and a worker at 20 s
/// declared the healthy worker dead three times over and its job went dead.)</summary>
public sealed partial class HeartbeatRuleProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Run_HeartbeatTooSeldomForItsOwnDeadWorkerTimeout_RefusedAtStart()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            "run", "--db", _dir.Db, "--dead-worker-timeout", "10s", "--heartbeat-interval", "20s", "--lease-duration", "60s");
        Assert.NotEqual(0, code);
        Assert.Contains("--heartbeat-interval: a heartbeat every 20s is too seldom for the coordinator's dead-worker timeout of 10s", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.DoesNotContain("running", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("worker")]
    [InlineData("node")]
    public async Task WorkerOrNodeOverServer_HeartbeatTooSeldomForTheServer_RefusedAtRegistration(string kind)
    {
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0", "--dead-worker-timeout", "10s");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;

        string[] args = kind == "worker"
            ? ["worker", "--server", url, "--heartbeat-interval", "20s", "--lease-duration", "60s"]
            : ["node", "--server", url, "--run-dir", _dir.File("run"), "--heartbeat-interval", "20s", "--lease-duration", "60s"];
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, args).WaitAsync(Generous);

        Assert.NotEqual(0, code);
        Assert.Contains("heartbeat_interval_seconds", stderr, StringComparison.Ordinal);
        Assert.Contains("too seldom for the coordinator's dead-worker timeout of 10s", stderr, StringComparison.Ordinal);
    }
}
