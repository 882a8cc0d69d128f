using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Tests.Support;
using Xunit.Abstractions;

namespace Gantry.Worker.Tests.Execution;

/// <summary>
/// Prefetch follows how long jobs took: after a run of no-ops a worker must not take a whole batch of
/// slow jobs that an idle worker could run now. (It did: two workers × 4 slots, 32 jobs of 500 ms after
/// 3,000 no-ops, all ran on the first worker to claim.)
/// </summary>
public sealed class PrefetchHoardTests(ITestOutputHelper output) : WorkerTestBase
{
    private const int SlowJobs = 32;

    [Fact]
    public async Task SlowJobsAfterManyNoops_TwoWorkers_SpreadOverBothAsFastAsFromCold()
    {
        var cold = await RunSlowBatchAsync(warm: false);
        var warm = await RunSlowBatchAsync(warm: true);
        output.WriteLine($"cold {cold.Elapsed.TotalMilliseconds:F0} ms ({cold.First}/{cold.Second}), after 3,000 no-ops {warm.Elapsed.TotalMilliseconds:F0} ms ({warm.First}/{warm.Second})");

        // 32 jobs of 500 ms on 8 slots: 2 s from cold; hoarded on one worker's 4 slots, 4 s.
        Assert.True(warm.First >= 8 && warm.Second >= 8, $"after the no-ops the slow jobs ran {warm.First} on one worker, {warm.Second} on the other");
        Assert.True(warm.Elapsed < cold.Elapsed * 1.3 + TimeSpan.FromSeconds(0.3), $"after the no-ops {warm.Elapsed.TotalMilliseconds:F0} ms, from cold {cold.Elapsed.TotalMilliseconds:F0} ms");
    }

    private async Task<(TimeSpan Elapsed, int First, int Second)> RunSlowBatchAsync(bool warm)
    {
        var first = CreateWorker(Options(concurrency: 4));
        var second = CreateWorker(Options(concurrency: 4));
        await first.StartAsync(Ct);
        await second.StartAsync(Ct);
        if (warm)
        {
            var noops = Enumerable.Range(0, 3_000).Select(_ => Job(BuiltInHandlers.Noop)).ToArray();
            await Store.JobEnqueueManyAsync(new JobEnqueueParams(noops), Ct);
            await WaitForAllAsync(noops.Select(j => j.Id).ToArray());
        }
        var slow = Enumerable.Range(0, SlowJobs).Select(_ => Job(BuiltInHandlers.Sleep, """{"ms":500}""")).ToArray();
        var clock = Stopwatch.StartNew();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(slow), Ct);
        var done = await WaitForAllAsync(slow.Select(j => j.Id).ToArray());
        var elapsed = clock.Elapsed;
        await first.StopAsync(Ct);
        await second.StopAsync(Ct);
        return (elapsed, done.Count(j => j.WorkerId == first.Id), done.Count(j => j.WorkerId == second.Id));
    }

    private async Task<JobRecord[]> WaitForAllAsync(Guid[] ids)
    {
        var deadline = DateTimeOffset.UtcNow + Probe.Deadline;
        while (true)
        {
            // The last one first: when it is done, most others are.
            if ((await GetAsync(ids[^1])).State == JobState.Succeeded)
            {
                var all = await Task.WhenAll(ids.Select(GetAsync));
                if (all.All(j => j.State == JobState.Succeeded)) return all;
            }
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"{ids.Length} jobs not done within {Probe.Deadline.TotalSeconds}s");
            await Task.Delay(20, Ct);
        }
    }
}
