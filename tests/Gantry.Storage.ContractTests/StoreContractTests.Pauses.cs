using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task QueuePause_PausedQueue_NothingClaimedUntilResumed()
    {
        await EnqueueAsync(Job(queue: "mail"));
        await EnqueueAsync(Job(queue: "default"));
        await Store.QueuePauseAsync("mail", Ct);
        await Store.QueuePauseAsync("mail", Ct); // twice is fine

        Assert.Empty(await ClaimAsync(queue: "mail"));
        Assert.Single(await ClaimAsync(queue: "default"));
        var stats = (await Store.QueueStatsAsync(Ct)).ToDictionary(s => s.Queue);
        Assert.True(stats["mail"].Paused);
        Assert.False(stats["default"].Paused);

        await Store.QueueResumeAsync("mail", Ct);
        Assert.Single(await ClaimAsync(queue: "mail"));
        Assert.False((await Store.QueueStatsAsync(Ct)).Single(s => s.Queue == "mail").Paused);
    }

    [Fact]
    public async Task QueuePause_EmptyQueue_ListedAsPaused()
    {
        await Store.QueuePauseAsync("later", Ct);
        var stats = Assert.Single(await Store.QueueStatsAsync(Ct));
        Assert.Equal("later", stats.Queue);
        Assert.True(stats.Paused);
    }

    [Fact]
    public async Task WorkerCommandSend_RunningWorker_HandedOverInOrder()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        await Store.WorkerCommandSendAsync("w1", WorkerCommandKind.Pause, Ct);
        await Store.WorkerCommandSendAsync("w1", WorkerCommandKind.Resume, Ct);
        await Store.WorkerCommandSendAsync("w1", WorkerCommandKind.Drain, Ct);

        Assert.Equal([WorkerCommandKind.Pause, WorkerCommandKind.Resume, WorkerCommandKind.Drain],
            (await Store.WorkerCommandsTakeAsync("w1", Ct)).Select(c => c.Kind));
        Assert.Empty(await Store.WorkerCommandsTakeAsync("w1", Ct));
    }

    [Fact]
    public async Task WorkerCommandSend_UnknownOrStoppedWorker_NotFound()
    {
        await Assert.ThrowsAsync<WorkerNotFoundException>(() => Store.WorkerCommandSendAsync("nobody", WorkerCommandKind.Drain, Ct));
        await Store.WorkerRegisterAsync(Worker("gone"), Ct);
        await Store.WorkerDeregisterAsync("gone", Ct);
        await Assert.ThrowsAsync<WorkerNotFoundException>(() => Store.WorkerCommandSendAsync("gone", WorkerCommandKind.Pause, Ct));
    }

    [Fact]
    public async Task Checkpoint_SavedByAttempt_GivenToTheNextClaim()
    {
        var first = await RunningAsync(Job() with { MaxAttempts = 3, CheckpointInterval = TimeSpan.FromSeconds(90) });
        Assert.Null(first.Checkpoint);
        Assert.Equal(TimeSpan.FromSeconds(90), first.CheckpointInterval);
        Assert.True(await ReportAsync(new JobCheckpointReport(first.Id, first.Attempt, first.WorkerId, "{\"count\":42}"u8.ToArray())));
        Assert.False(await ReportAsync(new JobCheckpointReport(first.Id, first.Attempt, "intruder", [1])));
        var stored = await GetAsync(first.Id);
        Assert.Equal(12, stored.CheckpointSize);
        Assert.Equal(Time.GetUtcNow(), stored.CheckpointAt);

        Assert.True(await FailAsync(first, JobState.Queued));
        var second = await ClaimOneAsync();
        Assert.Equal("{\"count\":42}"u8.ToArray(), second.Checkpoint);
        Assert.Equal(Time.GetUtcNow(), second.CheckpointAt);
    }

    [Fact]
    public async Task QueueBacklog_CountsQueuedJobsOfQueuesNotPaused()
    {
        await RunningAsync(Job(queue: "a"));
        await RunningAsync(Job(queue: "b"));
        for (var i = 0; i < 3; i++) await EnqueueAsync(queue: "a");
        for (var i = 0; i < 2; i++) await EnqueueAsync(queue: "b");
        await EnqueueAsync(queue: "c");
        await EnqueueAsync(new NewJob { Id = JobIds.New(), Type = "test", Queue = "a", RunAt = Time.GetUtcNow().AddHours(1) });
        var done = await RunningAsync(Job(queue: "d"));
        Assert.True(await SucceedAsync(done));
        await Store.QueuePauseAsync("b", Ct);

        var backlog = await Store.QueueBacklogAsync(Ct);

        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["c"] = 1 }, backlog);
        await Store.QueueResumeAsync("b", Ct);
        Assert.Equal(2, (await Store.QueueBacklogAsync(Ct))["b"]);
    }
}
