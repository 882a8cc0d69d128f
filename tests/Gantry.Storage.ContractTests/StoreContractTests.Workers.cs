using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task WorkerRegister_New_ListedAsRunning()
    {
        var registration = Worker("w1", "echo", "sleep") with
        {
            Capabilities = ["gpu"],
            Tags = new Dictionary<string, string> { ["zone"] = "eu" },
        };

        await Store.WorkerRegisterAsync(registration, Ct);

        var worker = Assert.Single(await Store.WorkerListAsync(Ct));
        Assert.Equal("w1", worker.Id);
        Assert.Equal(WorkerStates.Running, worker.State);
        Assert.Equal(Time.GetUtcNow(), worker.StartedAt);
        Assert.Equal(Time.GetUtcNow(), worker.LastSeenAt);
        Assert.Equal("test-host", worker.Registration.Host);
        Assert.Equal(4242, worker.Registration.ProcessId);
        Assert.Equal("1.0.0", worker.Registration.Version);
        Assert.Equal(4, worker.Registration.Queues["default"]);
        Assert.Equal(4, worker.Registration.Capacity);
        Assert.Equal(["echo", "sleep"], worker.Registration.JobTypes);
        Assert.Equal(["gpu"], worker.Registration.Capabilities);
        Assert.Equal("eu", worker.Registration.Tags["zone"]);
    }

    [Fact]
    public async Task WorkerRegister_Again_RefreshesOneRecord()
    {
        await Store.WorkerRegisterAsync(Worker("w1", "echo"), Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        await Store.WorkerRegisterAsync(Worker("w1", "noop") with { Capacity = 9 }, Ct);

        var worker = Assert.Single(await Store.WorkerListAsync(Ct));
        Assert.Equal(9, worker.Registration.Capacity);
        Assert.Equal(["noop"], worker.Registration.JobTypes);
        Assert.Equal(Time.GetUtcNow(), worker.LastSeenAt);
    }

    [Fact]
    public async Task WorkerRegister_WithName_ListedWithItAndRenamedOnRegisterAgain()
    {
        await Store.WorkerRegisterAsync(Worker("w1") with { Name = "gpu box 1" }, Ct);
        await Store.WorkerRegisterAsync(Worker("w2"), Ct);

        var workers = (await Store.WorkerListAsync(Ct)).ToDictionary(w => w.Id);
        Assert.Equal("gpu box 1", workers["w1"].Registration.Name);
        Assert.Null(workers["w2"].Registration.Name);

        await Store.WorkerRegisterAsync(Worker("w1") with { Name = "gpu box one" }, Ct);
        await Store.WorkerRegisterAsync(Worker("w2") with { Name = "spare" }, Ct);
        workers = (await Store.WorkerListAsync(Ct)).ToDictionary(w => w.Id);
        Assert.Equal("gpu box one", workers["w1"].Registration.Name);
        Assert.Equal("spare", workers["w2"].Registration.Name);
    }

    [Fact]
    public async Task WorkerDeregister_Registered_Stopped()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        await Store.WorkerRegisterAsync(Worker("w2"), Ct);

        await Store.WorkerDeregisterAsync("w1", Ct);

        var workers = (await Store.WorkerListAsync(Ct)).ToDictionary(w => w.Id);
        Assert.Equal(WorkerStates.Stopped, workers["w1"].State);
        Assert.Equal(WorkerStates.Running, workers["w2"].State);
    }

    [Fact]
    public async Task WorkerList_Several_MostRecentlySeenFirst()
    {
        await Store.WorkerRegisterAsync(Worker("old"), Ct);
        Time.Advance(TimeSpan.FromSeconds(5));
        await Store.WorkerRegisterAsync(Worker("new"), Ct);
        Time.Advance(TimeSpan.FromSeconds(5));
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("old", Lease, [new(Guid.NewGuid(), 1), new(Guid.NewGuid(), 1), new(Guid.NewGuid(), 1)]), Ct);

        var workers = await Store.WorkerListAsync(Ct);

        Assert.Equal(["old", "new"], workers.Select(w => w.Id));
        Assert.Equal(3, workers[0].RunningJobs);
        Assert.Equal(Time.GetUtcNow(), workers[0].LastSeenAt);
    }

    [Fact]
    public async Task JobTypesServed_RegisteredWorkers_UnionOfTypes()
    {
        Assert.Empty(await Store.JobTypesServedAsync(Ct));
        await Store.WorkerRegisterAsync(Worker("w1", "echo", "sleep"), Ct);
        await Store.WorkerRegisterAsync(Worker("w2", "sleep", "resize"), Ct);

        var served = await Store.JobTypesServedAsync(Ct);

        Assert.True(served.SetEquals(["echo", "sleep", "resize"]));
    }

    [Fact]
    public async Task WorkerHeartbeat_RunningJobs_LeasesExtended()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var mine = await RunningAsync(worker: "w1");
        var theirs = await RunningAsync(worker: "w2");
        Time.Advance(TimeSpan.FromSeconds(20));

        var result = await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, [new(mine.Id, mine.Attempt)]), Ct);

        Assert.Empty(result.LostJobs);
        Assert.Equal(Time.GetUtcNow() + Lease, (await GetAsync(mine.Id)).LeaseUntil);
        Time.Advance(TimeSpan.FromSeconds(20));
        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(theirs.Id, rescued.Id);
        Assert.Equal(JobState.Running, (await GetAsync(mine.Id)).State);
        Assert.True(await SucceedAsync(mine));
    }

    [Fact]
    public async Task WorkerHeartbeat_AttemptNoLongerHeld_ReportedLost()
    {
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);
        var first = await RunningAsync(worker: "w1");
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct);
        var second = Assert.Single(await Store.JobClaimAsync(new JobClaimParams("w2", [new QueueDemand("default", 1)], Lease, []), Ct));
        var finished = await RunningAsync(worker: "w1");
        Assert.True(await ReportAsync(new JobSucceededReport(finished.Id, finished.Attempt, "w1", null)));

        var result = await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease,
            [new(first.Id, first.Attempt), new(finished.Id, finished.Attempt)]), Ct);

        Assert.Equal([new JobLease(first.Id, first.Attempt), new JobLease(finished.Id, finished.Attempt)], result.LostJobs);
        Assert.Equal("w2", (await GetAsync(second.Id)).WorkerId);
    }
}

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task WorkerHeartbeat_WithManagedWorkers_PublishedInRegistry()
    {
        await Store.WorkerRegisterAsync(Worker("node1", "echo"), Ct);
        var managed = new ManagedWorkerInfo(2, 4343, ManagedWorkerStates.Restarting, 1, "exited with code 134", Time.GetUtcNow(), 7, 1, 0, 4);

        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("node1", TimeSpan.FromSeconds(30), [], [managed]), Ct);

        var worker = Assert.Single(await Store.WorkerListAsync(Ct));
        Assert.Equal(managed, Assert.Single(worker.Managed));
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("node1", TimeSpan.FromSeconds(30), []), Ct);
        Assert.Empty(Assert.Single(await Store.WorkerListAsync(Ct)).Managed);
    }
}
