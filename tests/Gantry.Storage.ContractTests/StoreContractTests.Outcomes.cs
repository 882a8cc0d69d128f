using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobReport_FailedForGoodWithAttemptsLeft_DeadAtOnce()
    {
        // A handler that fails for good (retry: false) is reported dead by its worker, attempts left or not.
        var claimed = await RunningAsync(Job() with { MaxAttempts = 5 });

        Assert.True(await FailAsync(claimed, JobState.Dead));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(1, job.Attempt);
        Assert.Null(job.RunAt);
        Time.Advance(TimeSpan.FromMinutes(1));
        await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task JobReport_FailedWithARetryDelayAsked_ScheduledThenAndNotBefore()
    {
        var claimed = await RunningAsync(Job() with { MaxAttempts = 5 });
        var runAt = Time.GetUtcNow().AddHours(2);

        Assert.True(await FailAsync(claimed, JobState.Scheduled, runAt));

        Assert.Equal(runAt, (await GetAsync(claimed.Id)).RunAt);
        Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct);
        Assert.Empty(await ClaimAsync());
        Time.Advance(TimeSpan.FromSeconds(1));
        await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct);
        Assert.Equal(claimed.Id, (await ClaimOneAsync()).Id);
    }

    // A worker's report may name any retry time; one before the failure is written is due at once, from now: the job's
    // wait and its queue's oldest queued age do not count from then (a run_at of year 1 made a queue 739,954 days behind).
    [Fact]
    public async Task JobReport_FailedWithARetryTimeInThePast_DueAsTheFailureIsWritten()
    {
        var claimed = await RunningAsync(Job() with { MaxAttempts = 5 });
        var now = Time.GetUtcNow();

        Assert.True(await FailAsync(claimed, JobState.Scheduled, DateTimeOffset.MinValue.AddDays(1)));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.NotNull(job.RunAt);
        Assert.True((job.RunAt.Value - now).Duration() < TimeSpan.FromSeconds(1), $"{job.RunAt:O}");
        Assert.Equal(1, await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct));
        var oldest = Assert.Single(await Store.QueueStatsAsync(Ct), q => q.Queue == claimed.Queue).OldestQueuedAt;
        Assert.True(oldest is { } o && (o - now).Duration() < TimeSpan.FromSeconds(1), $"{oldest:O}");
        Assert.True((( await ClaimOneAsync()).DueAt - now).Duration() < TimeSpan.FromSeconds(1));
    }
}
