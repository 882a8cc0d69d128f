using Gantry.Jobs;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>How many jobs run at once, which runs first, and not before its time.</summary>
public sealed class GantryWorkerCapacityTests : WorkerTestBase
{
    [Fact]
    public async Task Run_ManyJobs_NeverExceedsQueueConcurrencyOrCapacity()
    {
        await StartWorkerAsync(Options() with
        {
            Queues = new Dictionary<string, int> { ["a"] = 2, ["b"] = 3 },
            Capacity = 4,
        });
        var jobs = Enumerable.Range(0, 24)
            .Select(i => Job(TestJobTypes.Count, """{"ms":60}""", i % 2 == 0 ? "a" : "b"))
            .ToArray();

        await Store.JobEnqueueManyAsync(new Gantry.Storage.JobEnqueueParams(jobs), Ct);

        foreach (var job in jobs) await WaitForStateAsync(job.Id, JobState.Succeeded);
        Assert.InRange(Probe.MaxRunningIn("a"), 1, 2);
        Assert.InRange(Probe.MaxRunningIn("b"), 1, 3);
        Assert.InRange(Probe.MaxRunning, 1, 4);
    }

    [Fact]
    public async Task Run_CapacityOne_PriorityThenAgeOrder()
    {
        var priorities = new[] { 1, 5, 3, 5, 0, 3 };
        var ids = new List<Guid>();
        foreach (var p in priorities) ids.Add(await EnqueueAsync(Job(TestJobTypes.Count, """{"ms":1}""") with { Priority = p }));

        await StartWorkerAsync(Options(concurrency: 1));

        foreach (var id in ids) await WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal([ids[1], ids[3], ids[2], ids[5], ids[0], ids[4]], Probe.StartOrder);
        Assert.Equal(1, Probe.MaxRunning);
    }

    [Fact]
    public async Task Run_DelayedJob_NotStartedBeforeRunAt()
    {
        await StartSchedulerAsync();
        await StartWorkerAsync();
        var runAt = DateTimeOffset.UtcNow.AddSeconds(1.5);

        var id = await EnqueueAsync(Job(TestJobTypes.Count, """{"ms":1}""") with { RunAt = runAt });

        Assert.Equal(JobState.Scheduled, (await GetAsync(id)).State);
        var job = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.True(Probe.StartedAt[id] >= runAt.AddMilliseconds(-1), $"started at {Probe.StartedAt[id]:O}, due at {runAt:O}");
        Assert.True(job.StartedAt >= runAt.AddMilliseconds(-1));
    }
}
