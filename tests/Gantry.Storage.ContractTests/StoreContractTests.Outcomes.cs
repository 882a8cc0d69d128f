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
}
