using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Maintenance;

/// <summary>The cleaner through its public surface: options in, <see cref="JobCleaner.RunOnceAsync"/>, the store's contents out.</summary>
public sealed class JobCleanerTests : FakeClockStoreTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);
    private static readonly TimeSpan WorkerRetention = TimeSpan.FromHours(1);

    private JobCleaner Cleaner() =>
        new(Store, new MaintenanceOptions { Retention = Retention, WorkerRetention = WorkerRetention }, NullLogger<JobCleaner>.Instance, Clock);

    [Fact]
    public async Task RunOnce_FinishedPastRetention_DeletedAndRecentOnesKept()
    {
        var old = await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        await Store.JobCancelAsync(old, Ct);
        var unfinished = await Store.EnqueueAsync(StoreTestExtensions.Job(queue: "other"), Ct);
        Clock.Advance(Retention - TimeSpan.FromSeconds(1));
        var recent = await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        await Store.JobCancelAsync(recent, Ct);
        var cleaner = Cleaner();

        Assert.Equal(0, await cleaner.RunOnceAsync(Ct));
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await cleaner.RunOnceAsync(Ct));

        Assert.Null(await Store.JobGetAsync(old, Ct));
        Assert.NotNull(await Store.JobGetAsync(recent, Ct));
        Assert.NotNull(await Store.JobGetAsync(unfinished, Ct));
    }

    [Fact]
    public async Task RunOnce_StoppedWorkerPastWorkerRetention_Removed()
    {
        await Store.WorkerRegisterAsync(StoreTestExtensions.Worker("gone"), Ct);
        await Store.WorkerDeregisterAsync("gone", Ct);
        await Store.WorkerRegisterAsync(StoreTestExtensions.Worker("running"), Ct);
        var cleaner = Cleaner();

        Clock.Advance(WorkerRetention - TimeSpan.FromSeconds(1));
        await cleaner.RunOnceAsync(Ct);
        Assert.Equal(2, (await Store.WorkerListAsync(Ct)).Count);

        Clock.Advance(TimeSpan.FromSeconds(2));
        await cleaner.RunOnceAsync(Ct);
        Assert.Equal("running", Assert.Single(await Store.WorkerListAsync(Ct)).Id);
    }

    [Fact]
    public async Task WaitForNextRound_WaitsTheCleanerInterval()
    {
        var cleaner = new JobCleaner(Store, new MaintenanceOptions { CleanerInterval = TimeSpan.FromMinutes(5) }, NullLogger<JobCleaner>.Instance, Clock);

        var moved = await Clock.AdvanceUntilAsync(cleaner.WaitForNextRoundAsync(Ct), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10));

        Assert.InRange(moved, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(30));
    }
}
