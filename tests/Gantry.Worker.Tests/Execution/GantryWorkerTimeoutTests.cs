using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>Timeouts: the token fires; a handler that ignores it is abandoned after the grace period.</summary>
public sealed class GantryWorkerTimeoutTests : WorkerTestBase
{
    [Fact]
    public async Task Run_PastTimeout_TokenFiresAndAttemptFailsAsTimeout()
    {
        await StartWorkerAsync();

        var id = await EnqueueAsync(Job(TestJobTypes.Block) with { Timeout = TimeSpan.FromMilliseconds(300), MaxAttempts = 1 });

        Assert.Equal(CancelReason.Timeout, await Probe.WaitTokenFiredAsync(id));
        var job = await WaitForStateAsync(id, JobState.Dead);
        var error = Assert.Single(job.Errors).Error;
        Assert.Equal(JobErrorKinds.Timeout, error.Kind);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DefaultJobTimeout_AppliesToJobsWithoutOne()
    {
        await StartWorkerAsync(Options() with { DefaultJobTimeout = TimeSpan.FromMilliseconds(300) });

        var id = await EnqueueAsync(Job(TestJobTypes.Block) with { MaxAttempts = 1 });

        var job = await WaitForStateAsync(id, JobState.Dead);
        Assert.Equal(JobErrorKinds.Timeout, Assert.Single(job.Errors).Error.Kind);
    }

    [Theory]
    [InlineData(TestJobTypes.Ignore)]
    [InlineData(TestJobTypes.StuckThread)]
    public async Task Run_HandlerIgnoresToken_AbandonedAfterGraceAndSlotFreed(string type)
    {
        await StartWorkerAsync(Options(concurrency: 1) with { CancelGracePeriod = TimeSpan.FromMilliseconds(500) });

        var stuck = await EnqueueAsync(Job(type) with { Timeout = TimeSpan.FromMilliseconds(200), MaxAttempts = 1 });
        await Probe.WaitStartedAsync(stuck);
        var next = await EnqueueAsync(BuiltInHandlers.Echo);

        var dead = await WaitForStateAsync(stuck, JobState.Dead);
        var error = Assert.Single(dead.Errors).Error;
        Assert.Equal(JobErrorKinds.Timeout, error.Kind);
        Assert.Contains("abandoned", error.Message, StringComparison.Ordinal);
        // The only slot went to the next job while the abandoned handler is still stuck.
        await WaitForStateAsync(next, JobState.Succeeded);
        Assert.False(Probe.Release.Task.IsCompleted);
        Assert.False(Probe.ReleaseThreads.IsSet);
    }

    [Fact]
    public async Task Run_TimeoutLongerThanTimersAllow_RunsWithoutTimeout()
    {
        await StartWorkerAsync();

        var id = await EnqueueAsync(Job(BuiltInHandlers.Echo) with { Timeout = TimeSpan.FromDays(100) });

        await WaitForStateAsync(id, JobState.Succeeded);
    }
}
