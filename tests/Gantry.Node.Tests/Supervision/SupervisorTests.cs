using Gantry.Node.Supervision;
using Gantry.Node.Upstream;
using Gantry.Storage;
using Gantry.TestSupport;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gantry.Node.Tests.Supervision;

/// <summary>
/// One supervision pass at a time (<see cref="Supervisor.Step"/>) on a fake clock: restarts wait out their backoff and
/// a worker that never connects is killed at the start timeout only when the clock says so. The workers are real
/// processes that never connect (a missing executable, a sleep), so no worker protocol is involved.
/// </summary>
public sealed class SupervisorTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = TestClock.New();
    private readonly WorkerSpawner _spawner = new();
    private readonly List<Supervisor> _supervisors = [];
    private TempSqliteStore _store = null!;

    public async Task InitializeAsync() => _store = await TempSqliteStore.CreateAsync(_clock);

    public async Task DisposeAsync()
    {
        foreach (var supervisor in _supervisors) await supervisor.DisposeAsync();
        _spawner.Dispose();
        await _store.DisposeAsync();
    }

    private Supervisor NewSupervisor(IReadOnlyList<string> command, int maxRestarts = 5)
    {
        var options = new NodeOptions
        {
            RunDirectory = _store.Directory, WorkerCommand = command, RelayWorkerOutput = false, Workers = 1,
            RestartBackoff = TimeSpan.FromSeconds(1), RestartBackoffMax = TimeSpan.FromSeconds(10), MaxRestarts = maxRestarts,
            StartTimeout = TimeSpan.FromSeconds(30),
        };
        options.Validate();
        var upstream = new NodeUpstream(new StoreWorkerLink(_store.Store), options, NullLogger.Instance, _clock);
        var supervisor = new Supervisor(options, upstream, _spawner, NullLogger.Instance, _clock);
        _supervisors.Add(supervisor);
        return supervisor;
    }

    private static ManagedWorkerInfo Only(Supervisor supervisor) => Assert.Single(supervisor.Status());

    [Fact]
    public async Task Step_WorkerThatCannotStart_RestartedAfterEachBackoffOnTheClock_ThenFailed()
    {
        var supervisor = NewSupervisor(["/nonexistent/gantry-worker"], maxRestarts: 2);
        supervisor.ScaleTo(1);

        supervisor.Step();
        await Eventually.TrueAsync(() => Only(supervisor) is { State: ManagedWorkerStates.Restarting, Restarts: 1 }, "the first restart");
        Assert.Contains("could not be started", Only(supervisor).LastError);

        // The first backoff (1 s) has not passed on the clock: no new start.
        supervisor.Step();
        Assert.Equal((ManagedWorkerStates.Restarting, 1), (Only(supervisor).State, Only(supervisor).Restarts));

        _clock.Advance(TimeSpan.FromSeconds(1));
        supervisor.Step();
        await Eventually.TrueAsync(() => Only(supervisor) is { State: ManagedWorkerStates.Restarting, Restarts: 2 }, "the second restart");

        // The backoff doubled to 2 s.
        _clock.Advance(TimeSpan.FromSeconds(1));
        supervisor.Step();
        Assert.Equal((ManagedWorkerStates.Restarting, 2), (Only(supervisor).State, Only(supervisor).Restarts));
        _clock.Advance(TimeSpan.FromSeconds(1));
        supervisor.Step();

        // Two restarts within the window were the most allowed: the third exit fails the worker.
        await Eventually.TrueAsync(() => Only(supervisor).State == ManagedWorkerStates.Failed, "the worker to be marked failed");
        Assert.True(supervisor.AllFailed);
        Assert.Equal(0, supervisor.LiveCount);

        Assert.Equal(1, supervisor.RestartFailed());
        Assert.Equal(ManagedWorkerStates.Restarting, Only(supervisor).State);
        Assert.False(supervisor.AllFailed);
    }

    [Fact]
    public async Task Step_WorkerThatNeverConnects_KilledOnlyOnceTheStartTimeoutPassesOnTheClock()
    {
        var supervisor = NewSupervisor(["/bin/sh", "-c", "exec sleep 60"]);
        supervisor.ScaleTo(1);

        supervisor.Step();
        await Eventually.TrueAsync(() => Only(supervisor).Pid is not null, "the worker process to start");
        Assert.Equal(ManagedWorkerStates.Starting, Only(supervisor).State);

        _clock.Advance(TimeSpan.FromSeconds(30));
        supervisor.Step();
        // Exactly the timeout is not past it; a kill would show within a moment of real time.
        await Task.Delay(20);
        Assert.Equal(ManagedWorkerStates.Starting, Only(supervisor).State);

        _clock.Advance(TimeSpan.FromSeconds(1));
        supervisor.Step();
        await Eventually.TrueAsync(() => Only(supervisor).State == ManagedWorkerStates.Restarting, "the killed worker to be restarted");
        var info = Only(supervisor);
        Assert.Equal(1, info.Restarts);
        Assert.Equal("was killed: it did not connect within 30s", info.LastError);
    }

    [Fact]
    public async Task Spawn_WorkerProcess_StartsWithASmallGen0Budget()
    {
        // The test's own environment sets none, so the worker gets the node's default.
        Assert.Null(Environment.GetEnvironmentVariable(Supervisor.WorkerGen0Variable));
        var seen = Path.Combine(_store.Directory, "gen0.txt");
        var supervisor = NewSupervisor(["/bin/sh", "-c", $"echo \"${Supervisor.WorkerGen0Variable}\" > '{seen}'; exec sleep 60"]);
        supervisor.ScaleTo(1);
        supervisor.Step();
        await Eventually.TrueAsync(() => File.Exists(seen) && File.ReadAllText(seen).EndsWith('\n'), "the worker process to write its environment");
        Assert.Equal("200000", File.ReadAllText(seen).Trim());
    }
}
