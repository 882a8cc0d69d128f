using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(30);

    private Task<IReadOnlyList<DeadWorker>> MarkDeadAsync() => Store.WorkerMarkDeadAsync(new WorkerMarkDeadParams(DeadAfter), Ct);

    [Fact]
    public async Task WorkerMarkDead_SilentPastTimeout_DeadAndJobsRescuable()
    {
        await Store.WorkerRegisterAsync(Worker("silent"), Ct);
        await Store.WorkerRegisterAsync(Worker("alive"), Ct);
        var lost = await RunningAsync(worker: "silent");
        var kept = await RunningAsync(worker: "alive");
        var seen = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromSeconds(20));
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("alive", Lease, [new(kept.Id, kept.Attempt)]), Ct);
        Time.Advance(TimeSpan.FromSeconds(11));

        var dead = Assert.Single(await MarkDeadAsync());

        Assert.Equal(new DeadWorker("silent", seen, 1), dead);
        var workers = (await Store.WorkerListAsync(Ct)).ToDictionary(w => w.Id);
        Assert.Equal(WorkerStates.Dead, workers["silent"].State);
        Assert.Equal(WorkerStates.Running, workers["alive"].State);
        // Its lease ran for 30 s from the claim and only 31 s passed, yet the job is rescued now, not later.
        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal((lost.Id, JobState.Queued), (rescued.Id, rescued.NewState));
        var job = await GetAsync(lost.Id);
        Assert.Equal(JobErrorKinds.WorkerLost, Assert.Single(job.Errors).Error.Kind);
        Assert.Equal(JobState.Running, (await GetAsync(kept.Id)).State);
    }

    [Fact]
    public async Task WorkerMarkDead_AlreadyDeadOrStopped_NotAgain()
    {
        await Store.WorkerRegisterAsync(Worker("crashed"), Ct);
        await Store.WorkerRegisterAsync(Worker("stopped"), Ct);
        await Store.WorkerDeregisterAsync("stopped", Ct);
        Time.Advance(DeadAfter + TimeSpan.FromSeconds(1));

        Assert.Equal(["crashed"], (await MarkDeadAsync()).Select(d => d.Id));
        Assert.Empty(await MarkDeadAsync());

        Assert.Equal(WorkerStates.Stopped, (await Store.WorkerListAsync(Ct)).Single(w => w.Id == "stopped").State);
    }

    [Fact]
    public async Task WorkerMarkDead_WithinTimeout_Nothing()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var job = await RunningAsync(worker: "w1");
        Time.Advance(DeadAfter - TimeSpan.FromSeconds(1));

        Assert.Empty(await MarkDeadAsync());

        Assert.Empty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(JobState.Running, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task WorkerHeartbeat_AfterMarkedDead_RunningAgainAndJobsLost()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var job = await RunningAsync(worker: "w1");
        Time.Advance(DeadAfter + TimeSpan.FromSeconds(1));
        Assert.Single(await MarkDeadAsync());
        Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));

        var result = await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, [new(job.Id, job.Attempt)]), Ct);

        Assert.Equal([new JobLease(job.Id, job.Attempt)], result.LostJobs);
        Assert.Equal(WorkerStates.Running, Assert.Single(await Store.WorkerListAsync(Ct)).State);
    }

    [Fact]
    public async Task WorkerRunningJobs_SeveralWorkers_EachRunningAttempt()
    {
        var a = await RunningAsync(worker: "w1");
        var b = await RunningAsync(worker: "w2");
        var done = await RunningAsync(worker: "w1");
        Assert.True(await SucceedAsync(done));
        await EnqueueAsync();

        var running = await Store.WorkerRunningJobsAsync(Ct);

        Assert.Equal([("w1", a.Id, 1), ("w2", b.Id, 1)], running.Select(r => (r.WorkerId, r.JobId, r.Attempt)).OrderBy(r => r.WorkerId));
        Assert.All(running, r => Assert.Equal(("test", "default", Time.GetUtcNow()), (r.Type, r.Queue, r.StartedAt)));
    }
}
