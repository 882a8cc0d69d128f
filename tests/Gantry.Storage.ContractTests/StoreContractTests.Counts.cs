using Gantry.Flow;
using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    /// <summary>The counts of every job the store holds, by reading each: what the kept counts must equal.</summary>
    private async Task<Dictionary<(string Queue, JobState State), long>> CountedOneByOneAsync()
    {
        var all = await Store.JobListAsync(new JobListParams { Limit = 10_000 }, Ct);
        return all.GroupBy(j => (j.Queue, j.State)).ToDictionary(g => g.Key, g => (long)g.Count());
    }

    private async Task AssertCountsExactAsync()
    {
        var expected = await CountedOneByOneAsync();
        var stats = await Store.QueueStatsAsync(Ct);
        var kept = stats.SelectMany(s => s.Counts.Where(c => c.Value != 0).Select(c => (Key: (s.Queue, c.Key), c.Value)))
            .ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(expected.OrderBy(e => e.Key.ToString()).ToArray(), kept.OrderBy(e => e.Key.ToString()).ToArray());
    }

    [Fact]
    public async Task QueueCounts_EveryTransition_EqualCountingEveryJob()
    {
        // Enqueue: queued and scheduled; a workflow: queued and waiting steps.
        for (var i = 0; i < 6; i++) await EnqueueAsync(queue: "a");
        await EnqueueAsync(Job(queue: "b") with { RunAt = Time.GetUtcNow().AddMinutes(1) });
        var steps = await CreateAsync(Flow(("first", None), ("second", ["first"]), ("third", ["second"])));
        await AssertCountsExactAsync();

        // Claim, success, failure to retry (queued and scheduled), failure for good, requeue, cancelled report.
        var claimed = await ClaimAsync(limit: 6, queue: "a");
        Assert.Equal(6, claimed.Count);
        Assert.True(await SucceedAsync(claimed[0]));
        Assert.True(await FailAsync(claimed[1], JobState.Queued));
        Assert.True(await FailAsync(claimed[2], JobState.Scheduled, Time.GetUtcNow().AddSeconds(10)));
        Assert.True(await FailAsync(claimed[3], JobState.Dead));
        Assert.True(await ReportAsync(new JobRequeuedReport(claimed[4].Id, claimed[4].Attempt, claimed[4].WorkerId)));
        await Store.JobCancelAsync(claimed[5].Id, Ct);
        Assert.True(await ReportAsync(new JobCancelledReport(claimed[5].Id, claimed[5].Attempt, claimed[5].WorkerId)));
        await Store.UpkeepAsync(Ct); // folds what is kept so far
        await AssertCountsExactAsync();

        // Release of a workflow step by its dependency's success; cancel of waiting, scheduled and queued jobs; retry.
        var first = Assert.Single(await ClaimAsync(limit: 100), c => c.Id == steps["first"]);
        Assert.True(await SucceedAsync(first));
        await Store.JobCancelAsync(steps["third"], Ct);
        var scheduled = await EnqueueAsync(Job(queue: "c") with { RunAt = Time.GetUtcNow().AddHours(1) });
        await Store.JobCancelAsync(scheduled, Ct);
        await Store.JobRetryAsync(claimed[3].Id, Ct);
        await Store.JobRetryAsync(claimed[5].Id, Ct);
        await Store.JobRetryAsync(steps["third"], Ct);
        await AssertCountsExactAsync();

        // Promotion of due jobs; rescue of expired leases (to queued, and to dead when no attempts are left).
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct) >= 2);
        await EnqueueAsync(Job(queue: "d") with { MaxAttempts = 1 });
        await ClaimAsync(limit: 100, queue: "d");
        await ClaimAsync(limit: 100, queue: "a");
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.NotEmpty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        await AssertCountsExactAsync();

        // A limited queue's claim and success; a running job cancelled at once; the cleaner's deletions.
        await EnqueueAsync(queue: "limited");
        await EnqueueAsync(queue: "limited");
        await Store.QueueLimitsSetAsync("limited", new QueueLimits { Concurrency = 1 }, Ct);
        var limited = Assert.Single(await ClaimAsync(limit: 5, queue: "limited"));
        Assert.True(await SucceedAsync(limited));
        var running = Assert.Single(await ClaimAsync(limit: 5, queue: "limited"));
        await Store.JobCancelAsync(running.Id, now: true, Ct);
        Assert.True(await ReportAsync(new JobCancelledReport(running.Id, running.Attempt, running.WorkerId)));
        await Store.UpkeepAsync(Ct);
        await AssertCountsExactAsync();
        Time.Advance(TimeSpan.FromDays(30));
        Assert.True(await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7)), Ct) > 0);
        await AssertCountsExactAsync();
        await Store.UpkeepAsync(Ct);
        await AssertCountsExactAsync();
    }

    [Fact]
    public async Task QueueCounts_ConcurrentClaimsAndReports_StayExact()
    {
        const int jobs = 400, claimers = 8;
        var batch = Enumerable.Range(0, jobs).Select(i => Job(queue: i % 2 == 0 ? "x" : "y")).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(batch), Ct);
        var upkeep = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await Store.UpkeepAsync(Ct);
                await Task.Delay(10, Ct);
            }
        }, Ct);
        await Task.WhenAll(Enumerable.Range(0, claimers).Select(w => Task.Run(async () =>
        {
            var n = 0;
            foreach (var queue in new[] { "x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x", "y" })
            {
                var claimed = await ClaimAsync(worker: $"w{w}", limit: 7, queue: queue);
                var reports = claimed.Select(c => (n++ % 5) switch
                {
                    0 => new JobFailedReport(c.Id, c.Attempt, c.WorkerId, new JobError(JobErrorKinds.Exception, "no"), JobState.Queued, null),
                    1 => new JobFailedReport(c.Id, c.Attempt, c.WorkerId, new JobError(JobErrorKinds.Exception, "no"), JobState.Dead, null),
                    _ => (JobReport)new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, null),
                }).ToArray();
                await Store.JobReportManyAsync(reports, Ct);
            }
        }, Ct)));
        await upkeep;
        await AssertCountsExactAsync();
        await Store.UpkeepAsync(Ct);
        await AssertCountsExactAsync();
    }
}
