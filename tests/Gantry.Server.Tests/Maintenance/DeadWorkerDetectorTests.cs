using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Maintenance;

public sealed class DeadWorkerDetectorTests : FakeClockStoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    // Far longer than the timeout: a job released by the detector was not released by its lease running out.
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    private DeadWorkerDetector Detector() =>
        new(Store, new MaintenanceOptions { DeadWorkerTimeout = Timeout }, NullLogger<DeadWorkerDetector>.Instance, Clock);

    [Fact]
    public async Task RunOnce_WorkerSilentPastTheTimeout_MarkedDeadAndItsJobQueuedAtOnce()
    {
        await Store.WorkerRegisterAsync(StoreTestExtensions.Worker("silent"), Ct);
        await Store.WorkerRegisterAsync(StoreTestExtensions.Worker("alive"), Ct);
        var lost = await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        await Store.ClaimOneAsync("silent", Lease, ct: Ct);
        var kept = await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        var keptClaim = await Store.ClaimOneAsync("alive", Lease, ct: Ct);
        var detector = Detector();

        Clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await detector.RunOnceAsync(Ct));
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("alive", Lease, [new(keptClaim.Id, keptClaim.Attempt)]), Ct);
        Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1, await detector.RunOnceAsync(Ct));
        var workers = (await Store.WorkerListAsync(Ct)).ToDictionary(w => w.Id);
        Assert.Equal(WorkerStates.Dead, workers["silent"].State);
        Assert.Equal(WorkerStates.Running, workers["alive"].State);
        Assert.Equal(JobState.Queued, (await Store.GetAsync(lost, Ct)).State);
        Assert.Equal(JobState.Running, (await Store.GetAsync(kept, Ct)).State);
        Assert.Equal(0, await detector.RunOnceAsync(Ct));
    }

    [Fact]
    public async Task RunOnce_SilentWorkerHoldingNothing_MarkedDeadAndNoJobCounted()
    {
        await Store.WorkerRegisterAsync(StoreTestExtensions.Worker("idle"), Ct);
        Clock.Advance(Timeout + TimeSpan.FromSeconds(1));

        Assert.Equal(0, await Detector().RunOnceAsync(Ct));
        Assert.Equal(WorkerStates.Dead, Assert.Single(await Store.WorkerListAsync(Ct)).State);
    }

    [Fact]
    public async Task WaitForNextRound_WaitsTheDeadWorkerInterval()
    {
        var detector = new DeadWorkerDetector(Store, new MaintenanceOptions { DeadWorkerInterval = TimeSpan.FromSeconds(5) }, NullLogger<DeadWorkerDetector>.Instance, Clock);

        var moved = await Clock.AdvanceUntilAsync(detector.WaitForNextRoundAsync(Ct), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.InRange(moved, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6));
    }
}
