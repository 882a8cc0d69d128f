using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Maintenance;

public sealed class JobRescuerTests : FakeClockStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private JobRescuer Rescuer() => new(Store, new MaintenanceOptions(), NullLogger<JobRescuer>.Instance, Clock);

    [Fact]
    public async Task RunOnce_LeaseExpiredOnTheClock_JobQueuedAgain()
    {
        var id = await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        await Store.ClaimOneAsync("w1", Lease, ct: Ct);
        var rescuer = Rescuer();

        Clock.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await rescuer.RunOnceAsync(Ct));
        Assert.Equal(JobState.Running, (await Store.GetAsync(id, Ct)).State);

        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await rescuer.RunOnceAsync(Ct));
        var job = await Store.GetAsync(id, Ct);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(JobErrorKinds.WorkerLost, Assert.Single(job.Errors).Error.Kind);
        Assert.Equal(0, await rescuer.RunOnceAsync(Ct));
    }

    [Fact]
    public async Task RunOnce_LastAttemptLost_JobDead()
    {
        var id = await Store.EnqueueAsync(StoreTestExtensions.Job() with { MaxAttempts = 1 }, Ct);
        await Store.ClaimOneAsync("w1", Lease, ct: Ct);
        Clock.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(1, await Rescuer().RunOnceAsync(Ct));
        var job = await Store.GetAsync(id, Ct);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(Clock.GetUtcNow(), job.FinishedAt);
    }

    [Fact]
    public async Task WaitForNextRound_WaitsTheRescuerInterval()
    {
        var rescuer = new JobRescuer(Store, new MaintenanceOptions { RescuerInterval = TimeSpan.FromSeconds(5) }, NullLogger<JobRescuer>.Instance, Clock);

        var moved = await Clock.AdvanceUntilAsync(rescuer.WaitForNextRoundAsync(Ct), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.InRange(moved, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6));
    }
}
