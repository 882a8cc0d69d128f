using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobGet_UnknownId_Null() =>
        Assert.Null(await Store.JobGetAsync(Guid.NewGuid(), Ct));

    [Fact]
    public async Task QueueStats_JobsInStates_CountedPerQueueAndState()
    {
        await RunningAsync(Job(queue: "a"));
        await EnqueueAsync(queue: "a");
        await EnqueueAsync(queue: "a");
        await EnqueueAsync(Job(queue: "b") with { RunAt = Time.GetUtcNow().AddHours(1) });
        var done = await RunningAsync(Job(queue: "b"));
        await SucceedAsync(done);

        var stats = (await Store.QueueStatsAsync(Ct)).ToDictionary(s => s.Queue);

        Assert.Equal(2, stats.Count);
        Assert.Equal(2, stats["a"][JobState.Queued]);
        Assert.Equal(1, stats["a"][JobState.Running]);
        Assert.Equal(0, stats["a"][JobState.Dead]);
        Assert.Equal(1, stats["b"][JobState.Scheduled]);
        Assert.Equal(1, stats["b"][JobState.Succeeded]);
    }

    [Fact]
    public async Task QueueStats_PaceOfTheLastMinuteAndOldestQueued()
    {
        var t0 = Time.GetUtcNow();
        var early = await RunningAsync(Job(queue: "p"));
        await SucceedAsync(early);
        var waiting = await EnqueueAsync(queue: "p");
        Time.Advance(TimeSpan.FromMinutes(2));
        var late = await RunningAsync(Job(queue: "p") with { Priority = 10 });
        await SucceedAsync(late);

        var stats = Assert.Single(await Store.QueueStatsAsync(Ct));

        Assert.Equal(2, stats[JobState.Succeeded]);
        Assert.Equal(1, stats.SucceededRecently); // the early one finished two minutes ago
        Assert.Equal(0, stats.DeadRecently);
        Assert.NotNull(stats.OldestQueuedAt);
        Assert.True((stats.OldestQueuedAt.Value - t0).Duration() < TimeSpan.FromMilliseconds(2), $"{stats.OldestQueuedAt:O} vs {t0:O}");
        Assert.Equal(JobState.Queued, (await GetAsync(waiting)).State);

        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, Assert.Single(await Store.QueueStatsAsync(Ct)).SucceededRecently);
    }

    [Fact]
    public async Task JobList_NoFilter_NewestFirst()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add(await EnqueueAsync());

        var list = await Store.JobListAsync(new JobListParams(), Ct);

        Assert.Equal(Enumerable.Reverse(ids), list.Select(j => j.Id));
    }

    [Fact]
    public async Task JobList_Filters_StateQueueAndType()
    {
        var running = await RunningAsync(Job("echo", "a"));
        var aEcho = await EnqueueAsync("echo", "a");
        var aSleep = await EnqueueAsync("sleep", "a");
        var bEcho = await EnqueueAsync("echo", "b");

        Assert.Equal([aEcho, running.Id], (await Store.JobListAsync(new JobListParams { Queue = "a", Type = "echo" }, Ct)).Select(j => j.Id));
        Assert.Equal([bEcho, aSleep, aEcho], (await Store.JobListAsync(new JobListParams { State = JobState.Queued }, Ct)).Select(j => j.Id));
        Assert.Equal([running.Id], (await Store.JobListAsync(new JobListParams { State = JobState.Running, Queue = "a" }, Ct)).Select(j => j.Id));
        Assert.Empty(await Store.JobListAsync(new JobListParams { Type = "nothing" }, Ct));
    }

    [Fact]
    public async Task JobList_Before_PagesWithoutOverlap()
    {
        var jobs = Enumerable.Range(0, 25).Select(_ => Job()).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var pages = new List<IReadOnlyList<JobRecord>>();
        Guid? before = null;
        while (true)
        {
            var page = await Store.JobListAsync(new JobListParams { Limit = 10, Before = before }, Ct);
            if (page.Count == 0) break;
            pages.Add(page);
            before = page[^1].Id;
        }

        Assert.Equal([10, 10, 5], pages.Select(p => p.Count));
        Assert.Equal(jobs.Select(j => j.Id).Reverse(), pages.SelectMany(p => p).Select(j => j.Id));
    }

    [Fact]
    public async Task JobList_BeforeWithFilter_PagesFilteredJobs()
    {
        var wanted = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            wanted.Add(await EnqueueAsync("echo"));
            await EnqueueAsync("other");
        }

        var first = await Store.JobListAsync(new JobListParams { Type = "echo", Limit = 4 }, Ct);
        var second = await Store.JobListAsync(new JobListParams { Type = "echo", Limit = 4, Before = first[^1].Id }, Ct);

        Assert.Equal(Enumerable.Reverse(wanted), first.Concat(second).Select(j => j.Id));
    }

    [Fact]
    public async Task JobList_EveryStateAndQueue_TheFilteredWalkBoundByTheKeptCounts_FindsExactlyTheMatchingJobs()
    {
        // Jobs in every state over two queues, some moved more than once (dead then retried, running then succeeded); the
        // ones a claim takes first, the ones that stay queued after.
        var retried = await RunningAsync(Job(queue: "a"));
        await FailAsync(retried, JobState.Dead);
        foreach (var queue in new[] { "a", "b" })
        {
            await RunningAsync(Job(queue: queue));
            await SucceedAsync(await RunningAsync(Job(queue: queue)));
            await FailAsync(await RunningAsync(Job(queue: queue)), JobState.Dead);
        }
        for (var i = 0; i < 3; i++) await SucceedAsync(await RunningAsync(Job(queue: "b")));
        foreach (var queue in new[] { "a", "b" })
        {
            await EnqueueAsync(queue: queue);
            await EnqueueAsync(Job(queue: queue) with { RunAt = Time.GetUtcNow().AddHours(1) });
            await Store.JobCancelAsync(await EnqueueAsync(queue: queue), Ct);
        }
        await Store.JobRetryAsync(retried.Id, Ct);

        var all = await Store.JobListAsync(new JobListParams { Limit = 1000 }, Ct);
        foreach (var state in Enum.GetValues<JobState>())
            foreach (var queue in new[] { null, "a", "b", "none" })
                foreach (var limit in new[] { 1, 2, 50 })
                {
                    var expected = all.Where(j => j.State == state && (queue is null || j.Queue == queue)).Select(j => j.Id).Take(limit);
                    var listed = await Store.JobListAsync(new JobListParams { State = state, Queue = queue, Limit = limit }, Ct);
                    Assert.True(expected.SequenceEqual(listed.Select(j => j.Id)), $"{state} in {queue ?? "every queue"}, limit {limit}: {listed.Count} listed");
                }
        // Paged by a cursor, a state fewer than a page still ends with its last job.
        var succeeded = all.Where(j => j.State == JobState.Succeeded).Select(j => j.Id).ToList();
        var first = await Store.JobListAsync(new JobListParams { State = JobState.Succeeded, Limit = 2 }, Ct);
        var rest = await Store.JobListAsync(new JobListParams { State = JobState.Succeeded, Limit = 50, Before = first[^1].Id }, Ct);
        Assert.Equal(succeeded, first.Concat(rest).Select(j => j.Id));
    }

    [Fact]
    public async Task QueueStats_OldestQueued_TheEarliestAcrossPriorities()
    {
        var t0 = Time.GetUtcNow();
        await EnqueueAsync(Job(queue: "o") with { Priority = 0 });
        Time.Advance(TimeSpan.FromMinutes(1));
        await EnqueueAsync(Job(queue: "o") with { Priority = 10 });
        await EnqueueAsync(Job(queue: "o") with { Priority = -5 });
        await EnqueueAsync(Job(queue: "p") with { Priority = 3 });

        var stats = (await Store.QueueStatsAsync(Ct)).ToDictionary(q => q.Queue);

        Assert.Equal(3, stats["o"][JobState.Queued]);
        Assert.True((stats["o"].OldestQueuedAt!.Value - t0).Duration() < TimeSpan.FromMilliseconds(2), $"{stats["o"].OldestQueuedAt:O} vs {t0:O}");
        Assert.True((stats["p"].OldestQueuedAt!.Value - t0.AddMinutes(1)).Duration() < TimeSpan.FromMilliseconds(2), $"{stats["p"].OldestQueuedAt:O}");
    }
}
