using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

/// <summary>Leases as heartbeats see them: what a worker names (held attempts, claims taken in) and what it never could.</summary>
public abstract partial class StoreContractTests
{
    private Task<WorkerHeartbeatResult> HeartbeatAsync(string worker, IEnumerable<ClaimedJob> held, IEnumerable<ClaimedJob>? takenIn = null) =>
        Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams(worker, Lease, held.Select(j => new JobLease(j.Id, j.Attempt)).ToArray(),
            Claims: (takenIn ?? []).Select(j => j.ClaimId).Distinct().ToArray()), Ct);

    [Fact]
    public async Task JobClaim_OneClaim_JobsShareItsClaimId()
    {
        await EnqueueAsync();
        await EnqueueAsync();
        await EnqueueAsync();

        var first = await ClaimAsync("w1", 2);
        var second = await ClaimAsync("w1", 2);

        Assert.Equal(2, first.Count);
        Assert.Single(first.Select(j => j.ClaimId).Distinct());
        var claim = Assert.Single(second).ClaimId;
        // A store that keeps a record of each claim numbers them apart; one that keeps none says 0 for all.
        Assert.True(claim == 0 ? first[0].ClaimId == 0 : claim != first[0].ClaimId);
    }

    [Fact]
    public async Task WorkerHeartbeat_ClaimAnswerNeverArrived_ItsJobRescuedWhenTheClaimLeaseEnds()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var lost = await RunningAsync(worker: "w1"); // the answer was lost on the way: w1 never names it
        var held = await RunningAsync(worker: "w1");
        for (var beat = 0; beat < 3; beat++)
        {
            Time.Advance(TimeSpan.FromSeconds(10));
            Assert.Empty((await HeartbeatAsync("w1", [held], takenIn: [held])).LostJobs);
        }
        Time.Advance(TimeSpan.FromSeconds(1));

        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));

        Assert.Equal((lost.Id, JobState.Queued), (rescued.Id, rescued.NewState));
        Assert.Equal(JobState.Running, (await GetAsync(held.Id)).State);
        Assert.True(await SucceedAsync(held));
    }

    [Fact]
    public async Task WorkerHeartbeat_ClaimTakenIn_HeldJobsOutliveItsLease_DroppedOnesDoNot()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        await EnqueueAsync();
        await EnqueueAsync();
        var claimed = await ClaimAsync("w1", 2);
        var (kept, dropped) = (claimed[0], claimed[1]);
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Empty((await HeartbeatAsync("w1", claimed, takenIn: claimed)).LostJobs);
        Time.Advance(TimeSpan.FromSeconds(20));

        // 40 s after the claim, 20 s after the heartbeat: both still leased.
        Assert.Empty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Empty((await HeartbeatAsync("w1", [kept])).LostJobs); // dropped, yet never reported: the worker lost track of it
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Empty((await HeartbeatAsync("w1", [kept])).LostJobs);

        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(dropped.Id, rescued.Id);
        Assert.Equal(JobState.Running, (await GetAsync(kept.Id)).State);
        Assert.True(await SucceedAsync(kept));
    }

    [Fact]
    public async Task WorkerHeartbeat_ClaimTakenIn_FinishedJobsLeaveNothingToRescue()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var done = await RunningAsync(worker: "w1");
        Assert.True(await SucceedAsync(done));
        await HeartbeatAsync("w1", [], takenIn: [done]);
        Time.Advance(Lease * 3);

        Assert.Empty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(JobState.Succeeded, (await GetAsync(done.Id)).State);
    }

    [Fact]
    public async Task WorkerHeartbeat_ClaimNamedTwice_SecondTimeHarmless()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var job = await RunningAsync(worker: "w1");
        await HeartbeatAsync("w1", [job], takenIn: [job]);
        Time.Advance(TimeSpan.FromSeconds(20));

        // The answer to the first heartbeat was lost: the worker names the claim again.
        Assert.Empty((await HeartbeatAsync("w1", [job], takenIn: [job])).LostJobs);
        Time.Advance(TimeSpan.FromSeconds(20));

        Assert.Empty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(Time.GetUtcNow() - TimeSpan.FromSeconds(20) + Lease, (await GetAsync(job.Id)).LeaseUntil);
    }

    [Fact]
    public async Task WorkerHeartbeat_AnotherWorkersClaimNamed_ItsJobsKeepTheirLease()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        await Store.WorkerRegisterAsync(Worker("w2"), Ct);
        var theirs = await RunningAsync(worker: "w2");
        Time.Advance(TimeSpan.FromSeconds(20));
        await HeartbeatAsync("w2", [theirs], takenIn: [theirs]);

        // A confused worker names w2's claim and w2's job: neither is its own.
        var result = await HeartbeatAsync("w1", [theirs], takenIn: [theirs]);
        Time.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal([new JobLease(theirs.Id, theirs.Attempt)], result.LostJobs);
        Assert.Empty(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.True(await SucceedAsync(theirs));
    }

    [Fact]
    public async Task WorkerRunningJobs_ClaimedNotYetNamed_Listed()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var named = await RunningAsync(worker: "w1");
        await HeartbeatAsync("w1", [named], takenIn: [named]);
        var fresh = await RunningAsync(worker: "w1");
        var done = await RunningAsync(worker: "w1");
        Assert.True(await SucceedAsync(done));

        var running = await Store.WorkerRunningJobsAsync(Ct);

        Assert.Equal(new[] { named.Id, fresh.Id }.Order(), running.Where(r => r.WorkerId == "w1").Select(r => r.JobId).Order());
    }
}
