using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

/// <summary>Pause and drain show in the registry and stop claims at once; old stopped and dead workers are pruned.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task WorkerPause_ClaimsNothingUntilResumed_ListedPausedThroughHeartbeatsAndRegistration()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        await EnqueueAsync();

        await Store.WorkerCommandSendAsync("w1", WorkerCommandKind.Pause, Ct);

        // The claim refuses even before the worker has taken the command: a fetch parked on the server claims nothing.
        Assert.Empty(await ClaimAsync("w1"));
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, []), Ct);
        await Store.WorkerRegisterAsync(Worker("w1"), Ct); // a node re-registers as its worker count changes
        Assert.Equal(WorkerStates.Paused, Assert.Single(await Store.WorkerListAsync(Ct)).State);
        Assert.Empty(await ClaimAsync("w1"));
        Assert.Single(await ClaimAsync("w2")); // other workers are not held back

        await EnqueueAsync();
        await Store.WorkerCommandSendAsync("w1", WorkerCommandKind.Resume, Ct);
        Assert.Equal(WorkerStates.Running, Assert.Single(await Store.WorkerListAsync(Ct)).State);
        Assert.Single(await ClaimAsync("w1"));
    }

    [Theory]
    [InlineData(WorkerCommandKind.Drain)]
    [InlineData(WorkerCommandKind.Shutdown)]
    public async Task WorkerDrainOrShutdown_ListedDraining_ClaimsNothing_ResumeDoesNotUndoIt(WorkerCommandKind kind)
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        await EnqueueAsync();

        await Store.WorkerCommandSendAsync("w1", kind, Ct);
        await Store.WorkerCommandSendAsync("w1", WorkerCommandKind.Resume, Ct);
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, []), Ct);

        Assert.Equal(WorkerStates.Draining, Assert.Single(await Store.WorkerListAsync(Ct)).State);
        Assert.Empty(await ClaimAsync("w1"));
        await Store.WorkerDeregisterAsync("w1", Ct);
        Assert.Equal(WorkerStates.Stopped, Assert.Single(await Store.WorkerListAsync(Ct)).State);
    }

    [Fact]
    public async Task JobClean_StoppedAndDeadWorkersPastTheirRetention_Pruned_LiveAndRecentKept()
    {
        await Store.WorkerRegisterAsync(Worker("old-stopped"), Ct);
        await Store.WorkerRegisterAsync(Worker("old-dead"), Ct);
        await Store.WorkerDeregisterAsync("old-stopped", Ct);
        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(await Store.WorkerMarkDeadAsync(new WorkerMarkDeadParams(TimeSpan.FromMinutes(1)), Ct));
        await Store.WorkerRegisterAsync(Worker("quiet-running"), Ct);
        await Store.WorkerRegisterAsync(Worker("old-paused"), Ct);
        await Store.WorkerCommandSendAsync("old-paused", WorkerCommandKind.Pause, Ct);
        Time.Advance(TimeSpan.FromHours(2));
        await Store.WorkerRegisterAsync(Worker("new-stopped"), Ct);
        await Store.WorkerDeregisterAsync("new-stopped", Ct);

        await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7), WorkerRetention: TimeSpan.FromHours(1)), Ct);

        var left = (await Store.WorkerListAsync(Ct)).ToDictionary(w => w.Id, w => w.State);
        Assert.Equal(["new-stopped", "old-paused", "quiet-running"], left.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(WorkerStates.Paused, left["old-paused"]);
    }
}
