using System.Collections.Concurrent;
using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobClaim_QueuedJob_RunningUnderLeaseWithFirstAttempt()
    {
        var job = Job("echo") with { Payload = """{"x":1}""", MaxAttempts = 4, Tags = new Dictionary<string, string> { ["t"] = "v" } };
        await EnqueueAsync(job);

        var claimed = await ClaimOneAsync("worker-a");

        Assert.Equal(job.Id, claimed.Id);
        Assert.Equal("echo", claimed.Type);
        Assert.Equal("""{"x":1}""", claimed.Payload);
        Assert.Equal(1, claimed.Attempt);
        Assert.Equal(4, claimed.MaxAttempts);
        Assert.Equal("worker-a", claimed.WorkerId);
        Assert.Equal("v", claimed.Tags["t"]);
        var stored = await GetAsync(job.Id);
        Assert.Equal(JobState.Running, stored.State);
        Assert.Equal(1, stored.Attempt);
        Assert.Equal("worker-a", stored.WorkerId);
        Assert.Equal(Time.GetUtcNow(), stored.StartedAt);
        Assert.Equal(Time.GetUtcNow() + Lease, stored.LeaseUntil);
    }

    [Fact]
    public async Task JobClaim_ClaimedJob_NotClaimedAgain()
    {
        await RunningAsync();

        Assert.Empty(await ClaimAsync("w2"));
    }

    [Fact]
    public async Task JobClaim_MixedPriorities_PriorityDescThenOldestFirst()
    {
        var order = new List<Guid>();
        foreach (var priority in new[] { 0, 5, 0, 5, -1 })
        {
            order.Add(await EnqueueAsync(Job() with { Priority = priority }));
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var claimed = await ClaimAsync(limit: 10);

        Assert.Equal([order[1], order[3], order[0], order[2], order[4]], claimed.Select(c => c.Id));
    }

    [Fact]
    public async Task JobClaim_LimitOne_TakesHighestPriorityFirst()
    {
        var low = await EnqueueAsync(Job() with { Priority = 1 });
        var high = await EnqueueAsync(Job() with { Priority = 9 });

        Assert.Equal(high, (await ClaimOneAsync()).Id);
        Assert.Equal(low, (await ClaimOneAsync()).Id);
    }

    [Fact]
    public async Task JobClaim_PerQueueLimits_Respected()
    {
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync(queue: "q1");
            await EnqueueAsync(queue: "q2");
            await EnqueueAsync(queue: "q3");
        }

        var claimed = await Store.JobClaimAsync(new JobClaimParams("w1",
            [new QueueDemand("q1", 2), new QueueDemand("q2", 3), new QueueDemand("q3", 0)], Lease, []), Ct);

        Assert.Equal(2, claimed.Count(c => c.Queue == "q1"));
        Assert.Equal(3, claimed.Count(c => c.Queue == "q2"));
        Assert.DoesNotContain(claimed, c => c.Queue == "q3");
    }

    [Fact]
    public async Task JobClaim_AllLimitsZero_ClaimsNothing()
    {
        await EnqueueAsync();

        Assert.Empty(await ClaimAsync(limit: 0));
        Assert.Equal(JobState.Queued, (await Store.JobListAsync(new JobListParams(), Ct))[0].State);
    }

    [Fact]
    public async Task JobClaim_RequiredCapabilities_OnlyWorkersWithAll()
    {
        var gpu = await EnqueueAsync(Job() with { RequiredCapabilities = ["gpu"] });
        var both = await EnqueueAsync(Job() with { RequiredCapabilities = ["gpu", "ssd"] });
        var plain = await EnqueueAsync();

        Assert.Equal([plain], (await ClaimAsync("w1", capabilities: ["ssd"])).Select(c => c.Id));
        Assert.Equal([gpu], (await ClaimAsync("w2", capabilities: ["gpu"])).Select(c => c.Id));
        Assert.Equal([both], (await ClaimAsync("w3", capabilities: ["ssd", "gpu", "arm64"])).Select(c => c.Id));
    }

    [Fact]
    public async Task JobClaim_JobTypesFilter_OnlyThoseTypes()
    {
        var a = await EnqueueAsync("a");
        var b = await EnqueueAsync("b");
        await EnqueueAsync("c");

        Assert.Empty(await ClaimAsync("w1", types: []));
        Assert.Equal([a], (await ClaimAsync("w1", types: ["a", "z"])).Select(c => c.Id));
        var rest = await ClaimAsync("w2", types: null);
        Assert.Equal(2, rest.Count);
        Assert.Contains(rest, c => c.Id == b);
    }

    [Fact]
    public async Task JobClaim_QueueNotAskedFor_NotClaimed()
    {
        await EnqueueAsync(queue: "other");

        Assert.Empty(await ClaimAsync(queue: "default"));
    }

    [Fact]
    public async Task JobClaim_ManyConcurrentClaimers_EachJobExactlyOnce()
    {
        const int jobCount = 2000, claimers = 8;
        var jobs = Enumerable.Range(0, jobCount).Select(_ => Job()).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var stores = new IJobStore[claimers];
        for (var i = 0; i < claimers; i++) stores[i] = await OpenAnotherAsync();
        var seen = new ConcurrentBag<Guid>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var tasks = stores.Select((store, i) => Task.Run(async () =>
        {
            await start.Task;
            while (true)
            {
                var claimed = await ClaimAsync($"w{i}", limit: 7, store: store);
                if (claimed.Count == 0) return;
                foreach (var job in claimed) seen.Add(job.Id);
            }
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(tasks);

        var ids = seen.ToArray();
        Assert.Equal(jobCount, ids.Length);
        Assert.Equal(jobCount, ids.Distinct().Count());
        Assert.True(jobs.Select(j => j.Id).ToHashSet().SetEquals(ids));
        var stats = Assert.Single(await Store.QueueStatsAsync(Ct));
        Assert.Equal(jobCount, stats[JobState.Running]);
    }
    [Fact]
    public async Task Claims_RacingCancels_EachJobClaimedOnceOrCancelledNeverBothNoneLeft()
    {
        const int jobCount = 1500;
        var jobs = Enumerable.Range(0, jobCount).Select(_ => Job()).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var claimers = new IJobStore[3];
        for (var i = 0; i < claimers.Length; i++) claimers[i] = await OpenAnotherAsync();
        var canceller = await OpenAnotherAsync();

        var claimed = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var cancelled = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var tasks = claimers.Select((store, n) => Task.Run(async () =>
        {
            var empty = 0;
            while (empty < 3)
            {
                var got = await ClaimAsync($"w{n}", limit: 40, store: store);
                foreach (var j in got) claimed.Add(j.Id);
                empty = got.Count == 0 ? empty + 1 : 0;
                if (got.Count == 0) await Task.Delay(20, Ct);
            }
        })).ToList();
        tasks.Add(Task.Run(async () =>
        {
            // Newest first: the claimers start from the oldest, so the two meet in the middle of the queue.
            foreach (var job in jobs.Reverse())
                if ((await canceller.JobCancelAsync(job.Id, Ct)).Outcome == JobCancelOutcome.Cancelled) cancelled.Add(job.Id);
        }));
        await Task.WhenAll(tasks);

        // How many each side took depends on timing; what each job ended as may not.
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        Assert.Empty(claimed.Intersect(cancelled));
        Assert.Equal(jobCount, claimed.Count + cancelled.Count);
        var stats = Assert.Single(await Store.QueueStatsAsync(Ct));
        Assert.Equal(0, stats[JobState.Queued]);
        Assert.Equal(claimed.Count, stats[JobState.Running]);
        Assert.Equal(cancelled.Count, stats[JobState.Cancelled]);
    }
}
