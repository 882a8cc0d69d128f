using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Worker.Tests.Execution;

/// <summary>What a running job tells the store while it runs: progress, and a lease kept alive.</summary>
public sealed class GantryWorkerProgressTests : WorkerTestBase
{
    [Fact]
    public async Task Run_HandlerReportsProgress_VisibleWhileRunning()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(TestJobTypes.Progress);
        await Probe.WaitStartedAsync(id);

        var running = await WaitForAsync(id, j => j.Progress is not null, "reporting progress");

        Assert.Equal(JobState.Running, running.State);
        Assert.Equal(37, running.Progress);
        Assert.Equal("working", running.ProgressMessage);
        Probe.Release.SetResult();
        var done = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal("\"done\"", done.Result);
    }

    [Fact]
    public async Task Run_LongJob_HeartbeatsKeepLeaseAlive()
    {
        var lease = TimeSpan.FromSeconds(4);
        await StartWorkerAsync(Options() with { LeaseDuration = lease, HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        var rescuer = new JobRescuer(Store, new MaintenanceOptions(), NullLogger<JobRescuer>.Instance, TimeProvider.System);
        var id = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(id);
        var firstLease = (await GetAsync(id)).LeaseUntil!.Value;

        // Past the first lease, the job must still be held under a renewed one.
        while (DateTimeOffset.UtcNow < firstLease.AddMilliseconds(300)) await Task.Delay(100, Ct);
        Assert.Equal(0, await rescuer.RunOnceAsync(Ct));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Running, job.State);
        Assert.True(job.LeaseUntil > firstLease);
        Probe.Release.SetResult();
        Assert.Equal(1, (await WaitForStateAsync(id, JobState.Succeeded)).Attempt);
    }
}
