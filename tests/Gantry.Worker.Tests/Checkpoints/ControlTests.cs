using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Checkpoints;

/// <summary>Drain, pause and resume by command, and checkpoints the runtime takes on its own.</summary>
public sealed class ControlTests : WorkerTestBase
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddGantryHandler<TickingHandler>("ticking");

    /// <summary>Ticks until cancelled; tells the runtime how far it got.</summary>
    private sealed class TickingHandler : IJobHandler<System.Text.Json.JsonElement>, ICheckpointSource
    {
        private int _ticks;
        public object? CaptureCheckpoint() => new { ticks = Volatile.Read(ref _ticks) };

        public async ValueTask HandleAsync(System.Text.Json.JsonElement payload, JobContext context)
        {
            while (true)
            {
                await Task.Delay(10, context.CancellationToken);
                Interlocked.Increment(ref _ticks);
            }
        }
    }

    [Fact]
    public async Task AutomaticCheckpoint_EveryInterval_SavedWhileRunning()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(Job("ticking") with { CheckpointInterval = TimeSpan.FromMilliseconds(100) });
        var job = await WaitForAsync(id, j => j.CheckpointSize > 0, "checkpointed");
        Assert.Equal(JobState.Running, job.State);
        await Store.JobCancelAsync(id, Ct);
        await WaitForStateAsync(id, JobState.Cancelled);
    }

    [Fact]
    public async Task Drain_ByCommand_RequeuesWithCheckpointAndStops()
    {
        var worker = await StartWorkerAsync(Options() with { DrainTimeout = TimeSpan.FromMilliseconds(300) });
        var id = await EnqueueAsync("ticking");
        await WaitForStateAsync(id, JobState.Running);

        await Store.WorkerCommandSendAsync(worker.Id, WorkerCommandKind.Drain, Ct);
        await worker.Drained.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        var job = await GetAsync(id);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.NotNull(job.CheckpointSize);
        Assert.Equal(WorkerStates.Stopped, (await Store.WorkerListAsync(Ct)).Single(w => w.Id == worker.Id).State);
    }

    [Fact]
    public async Task Pause_ByCommand_NothingNewClaimedUntilResumed()
    {
        var worker = await StartWorkerAsync();
        await Store.WorkerCommandSendAsync(worker.Id, WorkerCommandKind.Pause, Ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!worker.IsPaused && DateTime.UtcNow < deadline) await Task.Delay(20, Ct);
        Assert.True(worker.IsPaused);

        var id = await EnqueueAsync(BuiltInHandlers.Echo);
        await Task.Delay(500, Ct);
        Assert.Equal(JobState.Queued, (await GetAsync(id)).State);

        await Store.WorkerCommandSendAsync(worker.Id, WorkerCommandKind.Resume, Ct);
        await WaitForStateAsync(id, JobState.Succeeded);
    }

    [Fact]
    public async Task QueuePause_RunningJobGoesOn_NewOnesWait()
    {
        await StartWorkerAsync();
        var running = await EnqueueAsync(BuiltInHandlers.Sleep, """{"ms":1500}""");
        await WaitForStateAsync(running, JobState.Running);
        await Store.QueuePauseAsync("default", Ct);
        var waiting = await EnqueueAsync(BuiltInHandlers.Echo);

        await WaitForStateAsync(running, JobState.Succeeded);
        Assert.Equal(JobState.Queued, (await GetAsync(waiting)).State);

        await Store.QueueResumeAsync("default", Ct);
        await WaitForStateAsync(waiting, JobState.Succeeded);
    }
}
