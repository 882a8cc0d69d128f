using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Checkpoints;

/// <summary>Checkpoints: saved by the handler or taken by the runtime, fenced, and resumed from.</summary>
public sealed class CheckpointTests : WorkerTestBase
{
    private static long ResumedFrom(JobRecord job) => JsonDocument.Parse(job.Result!).RootElement.GetProperty("resumed_from").GetInt64();

    [Fact]
    public async Task Count_Fresh_StartsFromZero()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(BuiltInHandlers.Count, """{"to":5,"step_ms":1,"checkpoint_every":2}""");
        var job = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal("""{"counted_to":5,"resumed_from":0}""", job.Result);
        Assert.NotNull(job.CheckpointSize);
        Assert.NotNull(job.CheckpointAt);
    }

    [Fact]
    public async Task Count_AfterShutdown_ResumesFromCheckpointWithAttemptUncounted()
    {
        var first = await StartWorkerAsync(Options() with { DrainTimeout = TimeSpan.FromMilliseconds(200) });
        var id = await EnqueueAsync(BuiltInHandlers.Count, """{"to":60,"step_ms":50,"checkpoint_every":1000}""");
        await WaitForAsync(id, j => j.Progress >= 10, "past 10%");
        await first.StopAsync(Ct);

        var requeued = await GetAsync(id);
        Assert.Equal(JobState.Queued, requeued.State);
        Assert.Equal(0, requeued.Attempt);
        Assert.NotNull(requeued.CheckpointSize); // taken by the runtime before the shutdown cancelled the handler

        await StartWorkerAsync();
        var done = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal(1, done.Attempt);
        Assert.True(ResumedFrom(done) > 0, done.Result);
    }

    [Fact]
    public async Task Checkpoint_StaleAttempt_Rejected()
    {
        var id = await EnqueueAsync(Job("x"));
        var claimed = Assert.Single(await Store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand("default", 1)], TimeSpan.FromSeconds(30), []), Ct));
        Assert.Single(await Store.JobReportManyAsync([new JobCheckpointReport(id, claimed.Attempt, "w1", [1, 2, 3])], Ct), true);
        Assert.Single(await Store.JobReportManyAsync([new JobCheckpointReport(id, claimed.Attempt, "intruder", [9])], Ct), false);
        Assert.Equal(3, (await GetAsync(id)).CheckpointSize);
    }
}
