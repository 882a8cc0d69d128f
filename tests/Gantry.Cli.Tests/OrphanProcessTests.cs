using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary>
/// A process handler's program never outlives the gantry process that owns its attempt, nor runs
/// on once the attempt may have gone to another worker. The program here ignores SIGTERM and
/// leaves a child behind; each attempt writes its pid and its child's, and attempt 2 reports which
/// of attempt 1's processes were still alive when it started.
/// </summary>
[RunsLong(43)]
public sealed partial class OrphanProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public OrphanProcessTests()
    {
        File.WriteAllText(_dir.File("stubborn.sh"), """
            read -r job
            trap '' TERM
            attempt=$(printf '%s' "$job" | sed 's/.*"attempt":\([0-9]*\).*/\1/')
            ( trap '' TERM; while :; do sleep 0.2; done ) &
            echo $! > child-$attempt
            echo $$ > pid-$attempt
            echo "$attempt" >> starts
            if [ "$attempt" = 1 ]; then while :; do sleep 0.2; done; fi
            alive=""
            for f in pid-1 child-1; do
              s=$(cut -d' ' -f3 /proc/$(cat $f)/stat 2>/dev/null)
              [ -n "$s" ] && [ "$s" != Z ] && alive="$alive $f"
            done
            echo "{\"result\": \"alive:$alive\"}"
            """ + "\n");
        File.WriteAllText(_dir.File("gantry.json"), """{ "handlers": { "stubborn": { "command": ["bash", "stubborn.sh"], "working_directory": "." } } }""");
    }

    public void Dispose() => _dir.Dispose();

    private int Pid(string file) => int.Parse(File.ReadAllText(_dir.File(file)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<(int Program, int Child)> WaitForFirstAttemptAsync()
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!File.Exists(_dir.File("pid-1")) || File.ReadAllText(_dir.File("pid-1")).Trim().Length == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("attempt 1 did not start");
            await Task.Delay(50);
        }
        return (Pid("pid-1"), Pid("child-1"));
    }

    private static async Task WaitUntilDeadAsync(int pid, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (GantryProcess.IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} (pid {pid}) still alive after {timeout}");
            await Task.Delay(50);
        }
    }

    private async Task AssertSecondAttemptSawNothingOfTheFirstAsync(Guid id)
    {
        var done = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State.IsTerminal(), Generous, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, done.Attempt);
        Assert.Equal("\"alive:\"", done.Result);
        Assert.Equal(["1", "2"], File.ReadAllLines(_dir.File("starts")));
    }

    [Fact]
    public async Task Run_Sigkilled_HandlerDiesWithIt_AndWhatItLeftIsSweptBeforeTheJobRunsAgain()
    {
        var first = QuickRun.Start(_dir);
        await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await QuickRun.SubmitAsync(_dir, "stubborn", "--max-attempts", "3");
        var (program, child) = await WaitForFirstAttemptAsync();

        first.Signal(GantryProcess.SigKill);
        await first.WaitForExitAsync(Generous);
        await first.DisposeAsync();
        // The parent-death signal: at once, whatever the program does with SIGTERM.
        await WaitUntilDeadAsync(program, TimeSpan.FromSeconds(10), "the handler's program");
        var cgroups = Directory.Exists("/sys/fs/cgroup/pids/gantry") ? Directory.GetDirectories("/sys/fs/cgroup/pids/gantry", $"*-{id:N}-1") : [];

        // The next gantry on this machine kills what the dead one left in its cgroups as it starts, and removes them.
        await using var second = QuickRun.Start(_dir);
        await second.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await WaitUntilDeadAsync(child, TimeSpan.FromSeconds(10), "the program's child");
        Assert.All(cgroups, dir => Assert.False(Directory.Exists(dir), $"{dir} was not removed"));
        await AssertSecondAttemptSawNothingOfTheFirstAsync(id);
    }

    [Fact]
    public async Task Node_Sigkilled_HandlersOfItsWorkersDieWithIt()
    {
        var node = GantryProcess.Start(_dir.Path, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--workers", "1",
            "--heartbeat-interval", "500ms", "--lease-duration", "5s", "--poll-interval", "50ms");
        await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await QuickRun.SubmitAsync(_dir, "stubborn", "--max-attempts", "3");
        var (program, _) = await WaitForFirstAttemptAsync();

        node.Signal(GantryProcess.SigKill);
        await node.WaitForExitAsync(Generous);
        await node.DisposeAsync();
        await WaitUntilDeadAsync(program, TimeSpan.FromSeconds(10), "the handler's program");

        await using var run = QuickRun.Start(_dir);
        await AssertSecondAttemptSawNothingOfTheFirstAsync(id);
    }

    [Theory]
    [InlineData("run", "3s", "gantry: --lease-duration: (3s) must be at least the heartbeat interval (0.5s) plus 3s")]
    [InlineData("worker", "3s", "gantry: --lease-duration: (3s) must be at least the heartbeat interval (0.5s) plus 3s")]
    [InlineData("node", "3900ms", "--lease-duration: (3.9s) must be at least twice the heartbeat interval (0.5s) plus 3s")]
    public async Task LeaseTooShortToStopUnrenewedAttemptsInTime_RefusedAtStart(string command, string lease, string message)
    {
        string[] runDir = command == "node" ? ["--run-dir", _dir.File("run")] : [];
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            [command, "--db", _dir.Db, .. runDir, "--lease-duration", lease, "--heartbeat-interval", "500ms"]);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(_dir.Db), stdout);
    }

    [Fact]
    public Task HttpWorker_ServerGone_StopsItsAttemptBeforeTheLeaseEnds_JobRunsOnceMoreElsewhere() =>
        // The worker is alive and cannot renew: it stops the attempt, and the tree is dead before the lease ends.
        ServerGone_AttemptStoppedBeforeTheLeaseEndsAsync(url =>
            ["worker", "--server", url, "--token", "test-worker-token", "--lease-duration", "4s", "--heartbeat-interval", "500ms", "--poll-interval", "50ms"],
            "Leases not renewed");

    [Fact]
    public Task NodeOverHttp_ServerGone_TakesTheAttemptBackFromItsWorkerBeforeTheLeaseEnds() =>
        ServerGone_AttemptStoppedBeforeTheLeaseEndsAsync(url =>
            ["node", "--server", url, "--token", "test-worker-token", "--run-dir", _dir.File("run"), "--workers", "1",
             "--lease-duration", "5s", "--heartbeat-interval", "500ms", "--poll-interval", "50ms"],
            "taken back from the workers");

    /// <summary>
    /// A worker or node over HTTP runs a stubborn attempt; its server is SIGKILLed; the attempt's processes must be dead
    /// before its lease ends, the process that ran it still up and saying why, and the job then runs once more elsewhere.
    /// </summary>
    private async Task ServerGone_AttemptStoppedBeforeTheLeaseEndsAsync(Func<string, string[]> coordinatedArgs, string says)
    {
        (string, string)[] tokens = [("GANTRY_TOKENS", "admin:test-admin-token,worker:test-worker-token")];
        var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0"], tokens);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;
        await using var runner = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, coordinatedArgs(url), []);
        await runner.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await QuickRun.SubmitAsync(_dir, "stubborn", "--max-attempts", "3");
        var (program, child) = await WaitForFirstAttemptAsync();
        // Two renewals at least: the lease now runs from a heartbeat, not from the claim.
        await Task.Delay(1200);

        server.Signal(GantryProcess.SigKill);
        await server.WaitForExitAsync(Generous);
        await server.DisposeAsync();
        var leaseEnd = (await StoreProbe.GetAsync(_dir.Db, id))!.LeaseUntil!.Value;

        await WaitUntilDeadAsync(program, TimeSpan.FromSeconds(20), "the handler's program");
        await WaitUntilDeadAsync(child, TimeSpan.FromSeconds(5), "the program's child");
        var stoppedAt = DateTimeOffset.UtcNow;
        Assert.True(stoppedAt < leaseEnd, $"the attempt's processes were still alive {(stoppedAt - leaseEnd).TotalMilliseconds:0} ms after its lease ended");
        Assert.False(runner.HasExited, runner.Output);
        Assert.Contains(says, runner.Output, StringComparison.Ordinal);

        await using var other = QuickRun.Start(_dir);
        await AssertSecondAttemptSawNothingOfTheFirstAsync(id);
    }
}
