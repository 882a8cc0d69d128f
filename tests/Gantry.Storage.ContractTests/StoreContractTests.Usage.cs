using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private static AttemptUsage Used(string outcome = AttemptOutcomes.Exited, double cpu = 1.5) =>
        new() { Outcome = outcome, CpuSeconds = cpu, PeakMemoryBytes = 64L << 20, ExitCode = outcome == AttemptOutcomes.Exited ? 0 : null, Signal = outcome == AttemptOutcomes.Exited ? null : 9,
            Limit = outcome == AttemptOutcomes.LimitHit ? AttemptLimits.Memory : null };

    [Fact]
    public async Task JobUsage_OfTheRunningAttempt_StoredPerAttemptAndFenced()
    {
        var first = await RunningAsync(Job() with { MaxAttempts = 3 });
        Assert.False(await ReportAsync(new JobUsageReport(first.Id, first.Attempt, "intruder", Used())));
        Assert.False(await ReportAsync(new JobUsageReport(first.Id, first.Attempt + 1, first.WorkerId, Used())));
        // Sent twice (a retried batch): the second replaces the first. In the batch of the outcome, before it.
        Assert.True(await ReportAsync(new JobUsageReport(first.Id, first.Attempt, first.WorkerId, Used(cpu: 0.5))));
        var applied = await Store.JobReportManyAsync(
        [
            new JobUsageReport(first.Id, first.Attempt, first.WorkerId, Used(AttemptOutcomes.LimitHit)),
            new JobFailedReport(first.Id, first.Attempt, first.WorkerId, new JobError(JobErrorKinds.Exception, "limit hit: memory (64 MB)"), JobState.Queued, null),
        ], Ct);
        Assert.Equal([true, true], applied);
        // Once the attempt has ended, its usage is not changed any more.
        Assert.False(await ReportAsync(new JobUsageReport(first.Id, first.Attempt, first.WorkerId, Used())));

        var second = await ClaimOneAsync();
        Assert.True(await Store.JobReportManyAsync([new JobUsageReport(second.Id, second.Attempt, second.WorkerId, Used()),
            new JobSucceededReport(second.Id, second.Attempt, second.WorkerId, null)], Ct) is [true, true]);

        var job = await GetAsync(first.Id);
        Assert.Equal([1, 2], job.Usage.Select(u => u.Attempt));
        Assert.Equal(Used(AttemptOutcomes.LimitHit), job.Usage[0].Usage);
        Assert.Equal(Used(), job.Usage[1].Usage);
    }

    [Fact]
    public async Task JobUsage_CleanedWithItsJob()
    {
        var retention = TimeSpan.FromHours(1);
        var done = await RunningAsync();
        Assert.True(await ReportAsync(new JobUsageReport(done.Id, done.Attempt, done.WorkerId, Used())));
        Assert.True(await SucceedAsync(done));
        Time.Advance(retention + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Store.JobCleanAsync(new JobCleanParams(retention), Ct));

        // A store may give the next job the row key of the one it removed: nothing of the old one shows.
        var next = await RunningAsync();
        Assert.Empty((await GetAsync(next.Id)).Usage);
    }

    [Fact]
    public async Task JobLimits_StoredWithTheJob_HandedToTheClaim()
    {
        var limits = new ResourceLimits { MemoryMb = 64, Cpu = 0.5, Processes = 8 };
        var id = await EnqueueAsync(Job() with { Limits = limits });
        var plain = await EnqueueAsync();
        var claimed = (await ClaimAsync(limit: 2)).ToDictionary(c => c.Id);
        Assert.Equal(limits, claimed[id].Limits);
        Assert.Null(claimed[plain].Limits);
        Assert.Equal(limits, (await GetAsync(id)).Limits);
        Assert.Null((await GetAsync(plain)).Limits);
    }

    [Fact]
    public async Task JobUsage_OfARequeuedAttempt_Dropped()
    {
        var first = await RunningAsync();
        Assert.True(await Store.JobReportManyAsync([new JobUsageReport(first.Id, first.Attempt, first.WorkerId, Used()),
            new JobRequeuedReport(first.Id, first.Attempt, first.WorkerId)], Ct) is [true, true]);
        Assert.Empty((await GetAsync(first.Id)).Usage);
    }
}
