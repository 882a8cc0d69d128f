using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobPromoteDue_OnlyDueJobs_Queued()
    {
        var soon = await EnqueueAsync(Job() with { RunAt = Time.GetUtcNow().AddSeconds(10) });
        var later = await EnqueueAsync(Job() with { RunAt = Time.GetUtcNow().AddSeconds(60) });

        Assert.Equal(0, await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct));
        Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct));

        Assert.Equal(JobState.Queued, (await GetAsync(soon)).State);
        Assert.Equal(JobState.Scheduled, (await GetAsync(later)).State);
    }

    [Fact]
    public async Task JobPromoteDue_Limit_PromotesAtMostLimit()
    {
        for (var i = 0; i < 5; i++) await EnqueueAsync(Job() with { RunAt = Time.GetUtcNow().AddSeconds(1 + i) });
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(3, await Store.JobPromoteDueAsync(new JobPromoteParams(3), Ct));
        Assert.Equal(2, await Store.JobPromoteDueAsync(new JobPromoteParams(3), Ct));
        Assert.Equal(0, await Store.JobPromoteDueAsync(new JobPromoteParams(3), Ct));
    }

    [Fact]
    public async Task JobNextDue_Scheduled_EarliestRunAt()
    {
        Assert.Null(await Store.JobNextDueAsync(Ct));
        var first = Time.GetUtcNow().AddSeconds(30);
        await EnqueueAsync(Job() with { RunAt = first.AddSeconds(30) });
        await EnqueueAsync(Job() with { RunAt = first });
        await EnqueueAsync();

        Assert.Equal(first, await Store.JobNextDueAsync(Ct));

        Time.Advance(TimeSpan.FromMinutes(5));
        await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct);
        Assert.Null(await Store.JobNextDueAsync(Ct));
    }

    [Fact]
    public async Task JobRescueExpired_LeaseNotExpired_NothingRescued()
    {
        var claimed = await RunningAsync();
        Time.Advance(Lease - TimeSpan.FromSeconds(1));

        Assert.Empty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(JobState.Running, (await GetAsync(claimed.Id)).State);
    }

    [Fact]
    public async Task JobRescueExpired_AttemptsExhausted_Dead()
    {
        var claimed = await RunningAsync(Job() with { MaxAttempts = 1 });
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));

        Assert.Equal(JobState.Dead, rescued.NewState);
        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(Time.GetUtcNow(), job.FinishedAt);
        Assert.Equal(JobErrorKinds.WorkerLost, Assert.Single(job.Errors).Error.Kind);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task JobRescueExpired_CancelRequested_Cancelled()
    {
        var claimed = await RunningAsync(Job() with { MaxAttempts = 5 });
        await Store.JobCancelAsync(claimed.Id, Ct);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));

        Assert.Equal(JobState.Cancelled, rescued.NewState);
        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.NotNull(job.FinishedAt);
        Assert.False(await SucceedAsync(claimed));
    }

    [Fact]
    public async Task JobClean_FinishedPastRetention_OnlyThoseDeleted()
    {
        var retention = TimeSpan.FromDays(7);
        var oldSucceeded = await RunningAsync();
        await SucceedAsync(oldSucceeded);
        var oldDead = await RunningAsync();
        await FailAsync(oldDead, JobState.Dead);
        var oldCancelled = await EnqueueAsync();
        await Store.JobCancelAsync(oldCancelled, Ct);
        var oldRunning = await RunningAsync();
        var oldQueued = await EnqueueAsync(queue: "other");
        var oldScheduled = await EnqueueAsync(Job() with { RunAt = Time.GetUtcNow().AddDays(30) });
        Time.Advance(retention + TimeSpan.FromSeconds(1));
        var recent = await RunningAsync();
        await SucceedAsync(recent);

        Assert.Equal(3, await Store.JobCleanAsync(new JobCleanParams(retention), Ct));

        Assert.Null(await Store.JobGetAsync(oldSucceeded.Id, Ct));
        Assert.Null(await Store.JobGetAsync(oldDead.Id, Ct));
        Assert.Null(await Store.JobGetAsync(oldCancelled, Ct));
        foreach (var kept in new[] { oldQueued, oldRunning.Id, oldScheduled, recent.Id })
            Assert.NotNull(await Store.JobGetAsync(kept, Ct));
        Assert.Equal(0, await Store.JobCleanAsync(new JobCleanParams(retention), Ct));
    }

    [Fact]
    public async Task JobClean_Limit_DeletesAtMostLimit()
    {
        for (var i = 0; i < 3; i++) await Store.JobCancelAsync(await EnqueueAsync(), Ct);
        Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(2, await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromHours(1), Limit: 2), Ct));
        Assert.Equal(1, await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromHours(1), Limit: 2), Ct));
    }
    [Fact]
    public async Task Upkeep_AfterManyClaims_JobsStillClaimedInOrderAndNoneLost()
    {
        var first = Enumerable.Range(0, 2500).Select(_ => Job()).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(first), Ct);
        var claimed = new List<Guid>();
        while (claimed.Count < first.Length) claimed.AddRange((await ClaimAsync(limit: 500)).Select(j => j.Id));

        await Store.UpkeepAsync(Ct);

        var later = Enumerable.Range(0, 3).Select(_ => Job()).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(later), Ct);
        Assert.Equal(first.Select(j => j.Id), claimed);
        Assert.Equal(later.Select(j => j.Id), (await ClaimAsync(limit: 10)).Select(j => j.Id));
    }
}
