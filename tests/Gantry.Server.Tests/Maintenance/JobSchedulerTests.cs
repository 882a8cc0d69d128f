using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Maintenance;

public sealed class JobSchedulerTests : FakeClockStoreTests
{
    private JobScheduler Scheduler(TimeSpan? interval = null) =>
        new(Store, new MaintenanceOptions { SchedulerInterval = interval ?? MaintenanceOptions.SchedulerIntervalDefault }, NullLogger<JobScheduler>.Instance, Clock);

    [Fact]
    public async Task RunOnce_JobScheduledLater_QueuedOnlyOnceTheClockReachesIt()
    {
        var scheduler = Scheduler();
        var id = await Store.EnqueueAsync(StoreTestExtensions.Job() with { RunAt = Clock.GetUtcNow().AddSeconds(10) }, Ct);

        Assert.Equal(0, await scheduler.RunOnceAsync(Ct));
        Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, await scheduler.RunOnceAsync(Ct));
        Assert.Equal(JobState.Scheduled, (await Store.GetAsync(id, Ct)).State);

        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await scheduler.RunOnceAsync(Ct));
        Assert.Equal(JobState.Queued, (await Store.GetAsync(id, Ct)).State);
    }

    [Fact]
    public async Task RunOnce_MoreDueThanOneBatch_AllQueuedInOneRound()
    {
        var count = new JobPromoteParams().Limit + 7;
        var runAt = Clock.GetUtcNow().AddMinutes(1);
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, count).Select(_ => StoreTestExtensions.Job() with { RunAt = runAt }).ToList()), Ct);
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(count, await Scheduler().RunOnceAsync(Ct));
        Assert.Null(await Store.JobNextDueAsync(Ct));
    }

    [Fact]
    public async Task WaitForNextRound_JobDueBeforeTheInterval_EndsWhenTheClockReachesIt()
    {
        await Store.EnqueueAsync(StoreTestExtensions.Job() with { RunAt = Clock.GetUtcNow().AddSeconds(30) }, Ct);
        // Made after the enqueue: a scheduler that had seen it happen would look again at once.
        var scheduler = Scheduler(interval: TimeSpan.FromMinutes(10));
        await scheduler.RunOnceAsync(Ct);

        var wait = scheduler.WaitForNextRoundAsync(Ct);
        var moved = await Clock.AdvanceUntilAsync(wait, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(11));

        // Not before the job is due, and long before the interval: it woke for the job.
        Assert.InRange(moved, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(35));
        Assert.Equal(1, await scheduler.RunOnceAsync(Ct));
    }

    [Fact]
    public async Task WaitForNextRound_NothingDue_WaitsTheInterval()
    {
        var scheduler = Scheduler(interval: TimeSpan.FromSeconds(20));

        var wait = scheduler.WaitForNextRoundAsync(Ct);
        var moved = await Clock.AdvanceUntilAsync(wait, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));

        Assert.InRange(moved, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(25));
    }

    [Fact]
    public async Task WaitForNextRound_JobScheduledWhileWaiting_EndsWithoutTheClockMoving()
    {
        var scheduler = Scheduler(interval: TimeSpan.FromMinutes(10));
        var wait = scheduler.WaitForNextRoundAsync(Ct);
        Assert.True(await FakeClockExtensions.StillWaitingAsync(wait));

        await Store.EnqueueAsync(StoreTestExtensions.Job() with { RunAt = Clock.GetUtcNow().AddHours(1) }, Ct);

        await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }
}
