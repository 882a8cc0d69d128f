using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>A user's cancel reaches the running handler through its token.</summary>
public sealed class GantryWorkerCancelTests : WorkerTestBase
{
    [Fact]
    public async Task Cancel_RunningJob_TokenFiresAndJobCancelled()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(id);

        var result = await Store.JobCancelAsync(id, Ct);

        Assert.Equal(JobCancelOutcome.Requested, result.Outcome);
        Assert.Equal(CancelReason.UserCancelled, await Probe.WaitTokenFiredAsync(id));
        var job = await WaitForStateAsync(id, JobState.Cancelled);
        Assert.Empty(job.Errors);
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public async Task Cancel_OneOfSeveralRunning_OthersUntouched()
    {
        await StartWorkerAsync();
        var keep = await EnqueueAsync(TestJobTypes.Block);
        var cancel = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(keep);
        await Probe.WaitStartedAsync(cancel);

        await Store.JobCancelAsync(cancel, Ct);
        await WaitForStateAsync(cancel, JobState.Cancelled);
        Probe.Release.SetResult();

        await WaitForStateAsync(keep, JobState.Succeeded);
    }

    [Fact]
    public async Task Cancel_QueuedJob_NeverRuns()
    {
        await StartWorkerAsync(Options(concurrency: 1));
        var running = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(running);
        var queued = await EnqueueAsync(TestJobTypes.Block);

        Assert.Equal(JobCancelOutcome.Cancelled, (await Store.JobCancelAsync(queued, Ct)).Outcome);
        Probe.Release.SetResult();

        await WaitForStateAsync(running, JobState.Succeeded);
        Assert.DoesNotContain(queued, Probe.StartOrder);
        Assert.Equal(0, (await GetAsync(queued)).Attempt);
    }

    [Fact]
    public async Task Cancel_AfterTimeoutFired_JobEndsCancelledNotRetried()
    {
        await StartWorkerAsync(Options() with { CancelGracePeriod = TimeSpan.FromSeconds(60) });
        var id = await EnqueueAsync(Job(TestJobTypes.IgnoreThenThrow) with { Timeout = TimeSpan.FromMilliseconds(100), MaxAttempts = 3 });
        await Probe.WaitStartedAsync(id);
        Assert.Equal(CancelReason.Timeout, await Probe.WaitTokenFiredAsync(id));

        // The user cancels while the timed-out handler is still winding down; then it fails.
        await Store.JobCancelAsync(id, Ct);
        Probe.Release.SetResult();

        var job = await WaitForAsync(id, j => j.State != JobState.Running, "finished");
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(JobErrorKinds.Timeout, Assert.Single(job.Errors).Error.Kind);
    }
}
