using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>Two-phase stop: running jobs may finish within the drain timeout, then are cancelled and requeued.</summary>
public sealed class GantryWorkerShutdownTests : WorkerTestBase
{
    [Fact]
    public async Task Stop_JobOutlastsDrainTimeout_CancelledAndRequeuedWithAttemptNotCounted()
    {
        var worker = await StartWorkerAsync(Options() with { DrainTimeout = TimeSpan.FromMilliseconds(200) });
        var id = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(id);

        await worker.StopAsync(Ct);

        Assert.Equal(CancelReason.Shutdown, await Probe.WaitTokenFiredAsync(id));
        var job = await GetAsync(id);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Empty(job.Errors);
    }

    [Fact]
    public async Task Stop_JobFinishesWithinDrainTimeout_Succeeds()
    {
        var worker = await StartWorkerAsync(Options() with { DrainTimeout = TimeSpan.FromSeconds(15) });
        var id = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(id);

        var stopping = worker.StopAsync(Ct);
        var late = await EnqueueAsync(TestJobTypes.Block);
        Probe.Release.SetResult();
        await stopping;

        var job = await GetAsync(id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(1, job.Attempt);
        // A stopping worker claims nothing more.
        Assert.Equal(JobState.Queued, (await GetAsync(late)).State);
    }

    [Fact]
    public async Task Stop_RequeuedJob_RunsAgainOnNextWorkerAsAttemptOne()
    {
        var first = await StartWorkerAsync(Options() with { DrainTimeout = TimeSpan.Zero });
        var id = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(id);
        await first.StopAsync(Ct);
        Probe.Release.SetResult();

        await StartWorkerAsync();

        var job = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal(1, job.Attempt);
    }
}
