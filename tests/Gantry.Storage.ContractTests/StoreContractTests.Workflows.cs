using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    // ---- helpers ----------------------------------------------------------------------------

    /// <summary>A workflow of "test" jobs from (step, dependencies) pairs.</summary>
    protected static NewWorkflow Flow(WorkflowOnFailure onFailure, params (string Step, string[] DependsOn)[] steps) => new()
    {
        Id = JobIds.New(),
        Name = "flow",
        OnFailure = onFailure,
        Steps = steps.Select(s => new NewWorkflowStep(s.Step, Job(), s.DependsOn)).ToArray(),
    };

    protected static NewWorkflow Flow(params (string Step, string[] DependsOn)[] steps) => Flow(WorkflowOnFailure.Cancel, steps);

    protected async Task<Dictionary<string, Guid>> CreateAsync(NewWorkflow flow) =>
        (await Store.WorkflowCreateAsync(new WorkflowCreateParams(flow), Ct)).Steps.ToDictionary(s => s.Step, s => s.JobId);

    private async Task<Dictionary<string, JobState>> StepStatesAsync(Guid workflow) =>
        (await Store.WorkflowGetAsync(workflow, Ct))!.Steps.ToDictionary(s => s.Name, s => s.State);

    /// <summary>Claims every queued job and succeeds the one with <paramref name="jobId"/> (unless told not to), giving the others back.</summary>
    private async Task<ClaimedJob> RunStepAsync(Guid jobId, string? result = null, bool succeed = true)
    {
        var claimed = (await ClaimAsync(limit: 1000)).ToList();
        var job = Assert.Single(claimed, c => c.Id == jobId);
        foreach (var other in claimed.Where(c => c.Id != jobId))
            Assert.True(await ReportAsync(new JobRequeuedReport(other.Id, other.Attempt, other.WorkerId)));
        if (succeed) Assert.True(await SucceedAsync(job, result));
        return job;
    }

    private static readonly string[] None = [];

    // ---- tests ------------------------------------------------------------------------------

    [Fact]
    public async Task WorkflowCreate_RootsQueuedAndDependentsWaiting()
    {
        var flow = Flow(("fetch", None), ("a", ["fetch"]), ("b", ["fetch"]), ("merge", ["a", "b"]));
        var result = await Store.WorkflowCreateAsync(new WorkflowCreateParams(flow), Ct);

        Assert.Equal(flow.Id, result.Id);
        Assert.Equal(["fetch", "a", "b", "merge"], result.Steps.Select(s => s.Step));
        Assert.Equal([JobState.Queued, JobState.Waiting, JobState.Waiting, JobState.Waiting], result.Steps.Select(s => s.State));
        var stored = await Store.WorkflowGetAsync(flow.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal("flow", stored.Name);
        Assert.Equal(WorkflowState.Running, stored.State);
        Assert.Equal(["a", "b"], stored.Steps.Single(s => s.Name == "merge").DependsOn);
        var merge = await GetAsync(result.Steps[3].JobId);
        Assert.Equal(flow.Id, merge.WorkflowId);
        Assert.Equal("merge", merge.Step);
        Assert.Null((await GetAsync(await EnqueueAsync())).WorkflowId);
        var stats = Assert.Single(await Store.QueueStatsAsync(Ct));
        Assert.Equal(3, stats[JobState.Waiting]);
        Assert.Equal(2, stats[JobState.Queued]);
        Assert.Equal(result.Steps[0].JobId, (await ClaimAsync(limit: 100))[0].Id);
    }

    [Fact]
    public async Task WorkflowCreate_StepFails_NothingStored()
    {
        var existing = Job();
        await EnqueueAsync(existing);
        // The second step's job id is taken: the insert fails halfway, and the whole workflow goes.
        var flow = Flow(("a", None), ("b", ["a"]));
        flow = flow with { Steps = [flow.Steps[0], flow.Steps[1] with { Job = flow.Steps[1].Job with { Id = existing.Id } }] };

        await Assert.ThrowsAnyAsync<Exception>(() => Store.WorkflowCreateAsync(new WorkflowCreateParams(flow), Ct));

        Assert.Null(await Store.WorkflowGetAsync(flow.Id, Ct));
        Assert.Null(await Store.JobGetAsync(flow.Steps[0].Job.Id, Ct));
        Assert.Empty(await Store.WorkflowListAsync(new WorkflowListParams(), Ct));
        Assert.Equal(existing.Id, Assert.Single(await ClaimAsync(limit: 100)).Id);
    }

    [Fact]
    public async Task WorkflowRelease_OnlyWhenAllDependenciesSucceeded()
    {
        var flow = Flow(("a", None), ("b", None), ("c", ["a", "b"]));
        var ids = await CreateAsync(flow);

        await RunStepAsync(ids["a"]);
        Assert.Equal(JobState.Waiting, (await GetAsync(ids["c"])).State);

        // A failure that will be retried does not release anything.
        var b = await RunStepAsync(ids["b"], succeed: false);
        Assert.True(await FailAsync(b, JobState.Queued));
        Assert.Equal(JobState.Waiting, (await GetAsync(ids["c"])).State);

        await RunStepAsync(ids["b"]);
        Assert.Equal(JobState.Queued, (await GetAsync(ids["c"])).State);
        Assert.Equal(ids["c"], Assert.Single(await ClaimAsync()).Id);
    }

    [Fact]
    public async Task WorkflowRelease_Diamond_MergeRunsOnceAfterBothBranches()
    {
        var flow = Flow(("fetch", None), ("left", ["fetch"]), ("right", ["fetch"]), ("merge", ["left", "right"]));
        var ids = await CreateAsync(flow);

        await RunStepAsync(ids["fetch"], "1");
        var branches = await ClaimAsync(limit: 10);
        Assert.Equal(new[] { ids["left"], ids["right"] }.Order(), branches.Select(b => b.Id).Order());
        foreach (var branch in branches) Assert.True(await SucceedAsync(branch, "2"));

        var merge = Assert.Single(await ClaimAsync(limit: 10));
        Assert.Equal(ids["merge"], merge.Id);
        Assert.True(await SucceedAsync(merge));
        Assert.Empty(await ClaimAsync(limit: 10));
        Assert.Equal(WorkflowState.Succeeded, (await Store.WorkflowGetAsync(flow.Id, Ct))!.State);
    }

    [Fact]
    public async Task WorkflowRelease_WideFanInCompletedConcurrently_ChildReleasedExactlyOnce()
    {
        const int parents = 200, instances = 4;
        var steps = Enumerable.Range(0, parents).Select(i => ($"p{i}", None)).Append(("child", Enumerable.Range(0, parents).Select(i => $"p{i}").ToArray()));
        var ids = await CreateAsync(Flow(steps.ToArray()));

        // Several store instances (as several processes would) claim the parents, then complete them all at
        // once, in small batches from many tasks, so that completions of one child's parents race.
        var stores = new List<IJobStore> { Store };
        for (var i = 1; i < instances; i++) stores.Add(await OpenAnotherAsync());
        var claimed = new List<(IJobStore Store, ClaimedJob Job)>();
        for (var i = 0; i < instances; i++)
            claimed.AddRange((await ClaimAsync($"w{i}", parents / instances, store: stores[i])).Select(j => (stores[i], j)));
        Assert.Equal(parents, claimed.Count);

        var start = new TaskCompletionSource();
        var completions = claimed.Chunk(5).Select(chunk => Task.Run(async () =>
        {
            await start.Task;
            var applied = await chunk[0].Store.JobReportManyAsync(chunk.Select(c => (JobReport)new JobSucceededReport(c.Job.Id, c.Job.Attempt, c.Job.WorkerId, $"\"{c.Job.Id}\"")).ToArray(), Ct);
            Assert.All(applied, Assert.True);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(completions);

        var child = await GetAsync(ids["child"]);
        Assert.Equal(JobState.Queued, child.State);
        var run = Assert.Single(await ClaimAsync(limit: 10));
        Assert.Equal(ids["child"], run.Id);
        Assert.Equal(parents, run.Dependencies!.Count);
        Assert.Empty(await ClaimAsync(limit: 10));
    }

    [Fact]
    public async Task WorkflowClaim_StepGetsDependencyResultsByName_PlainJobNone()
    {
        var ids = await CreateAsync(Flow(("a", None), ("b", None), ("c", ["a", "b"])));
        await RunStepAsync(ids["a"], """{"rows":3}""");
        await RunStepAsync(ids["b"], null);

        var c = Assert.Single(await ClaimAsync());
        Assert.Equal(ids["c"], c.Id);
        Assert.Equal("""{"rows":3}""", c.Dependencies!["a"]);
        Assert.True(c.Dependencies.ContainsKey("b"));
        Assert.Null(c.Dependencies["b"]);

        await EnqueueAsync();
        Assert.Null(Assert.Single(await ClaimAsync()).Dependencies);
    }

    [Fact]
    public async Task WorkflowFailure_DeadStepByDefault_CancelsEveryUnfinishedStep()
    {
        var flow = Flow(("a", None), ("b", ["a"]), ("other", None), ("busy", None));
        var ids = await CreateAsync(flow);
        var claimed = await ClaimAsync(limit: 10);
        var a = claimed.Single(c => c.Id == ids["a"]);
        var busy = claimed.Single(c => c.Id == ids["busy"]);
        Assert.True(await ReportAsync(new JobRequeuedReport(ids["other"], claimed.Single(c => c.Id == ids["other"]).Attempt, "w1")));

        Assert.True(await FailAsync(a, JobState.Dead));

        var states = await StepStatesAsync(flow.Id);
        Assert.Equal(JobState.Dead, states["a"]);
        Assert.Equal(JobState.Cancelled, states["b"]);
        Assert.Equal(JobState.Cancelled, states["other"]);
        // The running step is asked to stop through its worker.
        Assert.Equal(JobState.Running, states["busy"]);
        Assert.NotNull((await GetAsync(ids["busy"])).CancelRequestedAt);
        var commands = await Store.WorkerCommandsTakeAsync("w1", Ct);
        Assert.Contains(commands, c => c.Kind == WorkerCommandKind.CancelJob && c.JobId == ids["busy"]);
        Assert.Equal(WorkflowState.Running, (await Store.WorkflowGetAsync(flow.Id, Ct))!.State);

        Assert.True(await ReportAsync(new JobCancelledReport(busy.Id, busy.Attempt, busy.WorkerId)));
        Assert.Equal(WorkflowState.Failed, (await Store.WorkflowGetAsync(flow.Id, Ct))!.State);
    }

    [Fact]
    public async Task WorkflowFailure_Continue_CancelsOnlyDownstreamTransitively()
    {
        var flow = Flow(WorkflowOnFailure.Continue, ("a", None), ("b", ["a"]), ("c", ["b"]), ("side", None), ("after_side", ["side"]));
        var ids = await CreateAsync(flow);

        var a = await RunStepAsync(ids["a"], succeed: false);
        Assert.True(await FailAsync(a, JobState.Dead));

        var states = await StepStatesAsync(flow.Id);
        Assert.Equal(JobState.Cancelled, states["b"]);
        Assert.Equal(JobState.Cancelled, states["c"]);
        Assert.Equal(JobState.Queued, states["side"]);
        Assert.Equal(JobState.Waiting, states["after_side"]);

        await RunStepAsync(ids["side"]);
        await RunStepAsync(ids["after_side"]);
        var done = (await Store.WorkflowGetAsync(flow.Id, Ct))!;
        Assert.Equal(WorkflowState.Failed, done.State);
        Assert.Equal(JobState.Succeeded, done.Steps.Single(s => s.Name == "after_side").State);
    }

    [Fact]
    public async Task WorkflowFailure_RescuedToDead_CancelsDownstream()
    {
        var flow = Flow(("a", None), ("b", ["a"]));
        flow = flow with { Steps = [flow.Steps[0] with { Job = flow.Steps[0].Job with { MaxAttempts = 1 } }, flow.Steps[1]] };
        var ids = await CreateAsync(flow);
        await ClaimOneAsync();

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(JobState.Dead, Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct)).NewState);

        Assert.Equal(JobState.Cancelled, (await GetAsync(ids["b"])).State);
        Assert.Equal(WorkflowState.Failed, (await Store.WorkflowGetAsync(flow.Id, Ct))!.State);
    }

    [Fact]
    public async Task WorkflowFailure_StepCancelledByUser_CancelsDownstream()
    {
        var flow = Flow(WorkflowOnFailure.Continue, ("a", None), ("b", ["a"]), ("side", None));
        var ids = await CreateAsync(flow);

        Assert.Equal(JobCancelOutcome.Cancelled, (await Store.JobCancelAsync(ids["a"], Ct)).Outcome);

        var states = await StepStatesAsync(flow.Id);
        Assert.Equal(JobState.Cancelled, states["b"]);
        Assert.Equal(JobState.Queued, states["side"]);
    }

    [Fact]
    public async Task JobRetry_CancelledStep_WaitsAgainUntilItsRetriedDependencySucceeds()
    {
        var flow = Flow(("a", None), ("b", ["a"]));
        var ids = await CreateAsync(flow);
        var a = await RunStepAsync(ids["a"], succeed: false);
        Assert.True(await FailAsync(a, JobState.Dead));
        Assert.Equal(JobState.Cancelled, (await GetAsync(ids["b"])).State);

        await Store.JobRetryAsync(ids["b"], Ct);
        Assert.Equal(JobState.Waiting, (await GetAsync(ids["b"])).State);
        Assert.Empty(await ClaimAsync());

        await Store.JobRetryAsync(ids["a"], Ct);
        await RunStepAsync(ids["a"], "1");
        Assert.Equal(ids["b"], Assert.Single(await ClaimAsync()).Id);
    }

    [Fact]
    public async Task JobRetry_CancelledStepWhoseDependencySucceededMeanwhile_IsQueuedAtOnce()
    {
        var flow = Flow(("a", None), ("side", None), ("b", ["a", "side"]));
        var ids = await CreateAsync(flow);
        await RunStepAsync(ids["side"]);
        var a = await RunStepAsync(ids["a"], succeed: false);
        Assert.True(await FailAsync(a, JobState.Dead));
        Assert.Equal(JobState.Cancelled, (await GetAsync(ids["b"])).State);

        // a is retried and succeeds while b stays cancelled: its success releases nothing.
        await Store.JobRetryAsync(ids["a"], Ct);
        await RunStepAsync(ids["a"], "1");
        Assert.Equal(JobState.Cancelled, (await GetAsync(ids["b"])).State);

        await Store.JobRetryAsync(ids["b"], Ct);

        Assert.Equal(JobState.Queued, (await GetAsync(ids["b"])).State);
        var claimed = Assert.Single(await ClaimAsync());
        Assert.Equal(ids["b"], claimed.Id);
        Assert.Equal("1", claimed.Dependencies!["a"]);
    }

    [Fact]
    public async Task WorkflowCancel_CancelsUnfinishedStepsAndAsksRunningOnesToStop()
    {
        var flow = Flow(("done", None), ("running", None), ("queued", None), ("waiting", ["done", "running"]));
        var ids = await CreateAsync(flow);
        await RunStepAsync(ids["done"]);
        var claimed = await ClaimAsync(limit: 10);
        var running = claimed.Single(c => c.Id == ids["running"]);
        var queued = claimed.Single(c => c.Id == ids["queued"]);
        Assert.True(await ReportAsync(new JobRequeuedReport(queued.Id, queued.Attempt, queued.WorkerId)));

        var result = await Store.WorkflowCancelAsync(flow.Id, Ct);

        Assert.Equal(2, result.Cancelled);
        Assert.Equal(1, result.Requested);
        var states = await StepStatesAsync(flow.Id);
        Assert.Equal(JobState.Succeeded, states["done"]);
        Assert.Equal(JobState.Cancelled, states["queued"]);
        Assert.Equal(JobState.Cancelled, states["waiting"]);
        Assert.Equal(JobState.Running, states["running"]);
        Assert.Contains(await Store.WorkerCommandsTakeAsync("w1", Ct), c => c.JobId == ids["running"]);

        Assert.True(await ReportAsync(new JobCancelledReport(running.Id, running.Attempt, running.WorkerId)));
        Assert.Equal(WorkflowState.Cancelled, (await Store.WorkflowGetAsync(flow.Id, Ct))!.State);
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => Store.WorkflowCancelAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task WorkflowList_NewestFirstWithDerivedStateFilterAndCursor()
    {
        var first = Flow(("a", None));
        var second = Flow(("a", None), ("b", ["a"]));
        var firstIds = await CreateAsync(first);
        await CreateAsync(second);
        await RunStepAsync(firstIds["a"]);

        var all = await Store.WorkflowListAsync(new WorkflowListParams(), Ct);
        Assert.Equal([second.Id, first.Id], all.Select(w => w.Id));
        Assert.Equal(new StepCounts(2, 2, 0, 0, 0), all[0].Steps);
        Assert.Equal(WorkflowState.Succeeded, all[1].State);

        Assert.Equal(first.Id, Assert.Single(await Store.WorkflowListAsync(new WorkflowListParams { State = WorkflowState.Succeeded }, Ct)).Id);
        Assert.Equal(second.Id, Assert.Single(await Store.WorkflowListAsync(new WorkflowListParams { State = WorkflowState.Running }, Ct)).Id);
        Assert.Empty(await Store.WorkflowListAsync(new WorkflowListParams { State = WorkflowState.Failed }, Ct));
        Assert.Equal(first.Id, Assert.Single(await Store.WorkflowListAsync(new WorkflowListParams { Before = second.Id }, Ct)).Id);
        Assert.Null(await Store.WorkflowGetAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task WorkflowClean_KeepsStepsOfUnfinishedWorkflow()
    {
        var flow = Flow(WorkflowOnFailure.Continue, ("a", None), ("b", None), ("c", ["a", "b"]));
        var ids = await CreateAsync(flow);
        await RunStepAsync(ids["a"], "1");
        Time.Advance(TimeSpan.FromDays(30));

        Assert.Equal(0, await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7)), Ct));
        Assert.NotNull(await Store.JobGetAsync(ids["a"], Ct));

        await RunStepAsync(ids["b"]);
        await RunStepAsync(ids["c"]);
        Time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(3, await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7)), Ct));
        Assert.Null(await Store.WorkflowGetAsync(flow.Id, Ct));
    }
}
