using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobEnqueueMany_Batch_StoresEveryFieldAsQueued()
    {
        var job = Job("report.build", "reports") with
        {
            Payload = """{"a":[1,2]}""",
            Priority = 7,
            Timeout = TimeSpan.FromSeconds(90),
            MaxAttempts = 3,
            Backoff = new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)),
            IdempotencyKey = "key-1",
            Tags = new Dictionary<string, string> { ["team"] = "billing" },
            RequiredCapabilities = ["gpu"],
        };

        var results = await Store.JobEnqueueManyAsync(new JobEnqueueParams([job, Job()]), Ct);

        Assert.Equal(2, results.Count);
        Assert.Equal(new JobEnqueueResult(job.Id, false, JobState.Queued), results[0]);
        var stored = await GetAsync(job.Id);
        Assert.Equal(JobState.Queued, stored.State);
        Assert.Equal("report.build", stored.Type);
        Assert.Equal("reports", stored.Queue);
        Assert.Equal("""{"a":[1,2]}""", stored.Payload);
        Assert.Equal(7, stored.Priority);
        Assert.Equal(0, stored.Attempt);
        Assert.Equal(3, stored.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(90), stored.Timeout);
        Assert.Equal(job.Backoff, stored.Backoff);
        Assert.Equal("key-1", stored.IdempotencyKey);
        Assert.Equal("billing", stored.Tags["team"]);
        Assert.Equal(["gpu"], stored.RequiredCapabilities);
        Assert.Equal(Time.GetUtcNow(), stored.CreatedAt);
        Assert.Null(stored.WorkerId);
        Assert.Empty(stored.Errors);
    }

    [Fact]
    public async Task JobEnqueueMany_Empty_ReturnsEmpty() =>
        Assert.Empty(await Store.JobEnqueueManyAsync(new JobEnqueueParams([]), Ct));

    [Fact]
    public async Task JobEnqueueMany_OneJobFails_NoneEnqueued()
    {
        var existing = await EnqueueAsync();
        var first = Job();
        var duplicate = Job() with { Id = existing };

        await Assert.ThrowsAnyAsync<GantryException>(() => Store.JobEnqueueManyAsync(new JobEnqueueParams([first, duplicate]), Ct));

        Assert.Null(await Store.JobGetAsync(first.Id, Ct));
        Assert.Single(await Store.JobListAsync(new JobListParams(), Ct));
    }

    [Fact]
    public async Task JobEnqueueMany_ExistingIdempotencyKey_ReturnsExistingJob()
    {
        var original = Job() with { IdempotencyKey = "once" };
        await EnqueueAsync(original);

        var again = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "once" }]), Ct));

        Assert.Equal(new JobEnqueueResult(original.Id, true, JobState.Queued), again);
        Assert.Single(await Store.JobListAsync(new JobListParams(), Ct));
    }

    [Fact]
    public async Task JobEnqueueMany_ExistingKeyOfRunningJob_ReturnsItsState()
    {
        var claimed = await RunningAsync(Job() with { IdempotencyKey = "k" });

        var again = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "k" }]), Ct));

        Assert.Equal(new JobEnqueueResult(claimed.Id, true, JobState.Running), again);
    }

    [Fact]
    public async Task JobEnqueueMany_SameKeyInOneBatch_SecondGetsFirst()
    {
        var a = Job() with { IdempotencyKey = "batch-key" };
        var b = Job() with { IdempotencyKey = "batch-key" };

        var results = await Store.JobEnqueueManyAsync(new JobEnqueueParams([a, b, Job()]), Ct);

        Assert.Equal(new JobEnqueueResult(a.Id, false, JobState.Queued), results[0]);
        Assert.Equal(new JobEnqueueResult(a.Id, true, JobState.Queued), results[1]);
        Assert.False(results[2].Existing);
        Assert.Null(await Store.JobGetAsync(b.Id, Ct));
        Assert.Equal(2, (await Store.JobListAsync(new JobListParams(), Ct)).Count);
    }

    [Fact]
    public async Task JobEnqueueMany_SameKeyInOtherQueue_SeparateJob()
    {
        await EnqueueAsync(Job(queue: "q1") with { IdempotencyKey = "k" });

        var other = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job(queue: "q2") with { IdempotencyKey = "k" }]), Ct));

        Assert.False(other.Existing);
    }

    [Fact]
    public async Task JobEnqueueMany_ConcurrentSameKey_ExactlyOneJobCreated()
    {
        var stores = new[] { Store, await OpenAnotherAsync(), await OpenAnotherAsync() };
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var submits = Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var job = Job() with { IdempotencyKey = "concurrent" };
            return Assert.Single(await stores[i % stores.Length].JobEnqueueManyAsync(new JobEnqueueParams([job]), Ct));
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(submits);

        Assert.Single(results, r => !r.Existing);
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Single(await Store.JobListAsync(new JobListParams(), Ct));
    }

    [Fact]
    public async Task JobEnqueueMany_RunAtInFuture_ScheduledAndNotClaimable()
    {
        var runAt = Time.GetUtcNow().AddMinutes(5);
        var job = Job() with { RunAt = runAt };

        var result = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([job]), Ct));

        Assert.Equal(JobState.Scheduled, result.State);
        var stored = await GetAsync(job.Id);
        Assert.Equal(JobState.Scheduled, stored.State);
        Assert.Equal(runAt, stored.RunAt);
        Assert.Empty(await ClaimAsync());

        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct));
        Assert.Equal(job.Id, (await ClaimOneAsync()).Id);
    }

    // A due time before the job existed is no delay, and is not kept: the job is due as it is created, so its queue's
    // oldest queued age and its wait count from then (a run_at of year 1 made a queue 2,025 years behind).
    [Theory]
    [InlineData(-1.0)]
    [InlineData(-1e9)]
    public async Task JobEnqueueMany_RunAtInPast_QueuedDueAsCreated(double minutes)
    {
        var now = Time.GetUtcNow();
        var job = Job() with { RunAt = minutes < -1e8 ? DateTimeOffset.MinValue.AddDays(1) : now.AddMinutes(minutes) };
        var step = Job() with { RunAt = job.RunAt };

        Assert.Equal(JobState.Queued, Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([job]), Ct)).State);
        var stepId = (await CreateAsync(Flow(("s", [])) with { Steps = [new NewWorkflowStep("s", step, [])] }))["s"];
        foreach (var id in new[] { job.Id, stepId })
        {
            var stored = await GetAsync(id);
            Assert.Equal((JobState.Queued, null), (stored.State, stored.RunAt));
        }
        var oldest = Assert.Single(await Store.QueueStatsAsync(Ct), s => s.Queue == job.Queue).OldestQueuedAt;
        Assert.NotNull(oldest);
        Assert.True((oldest.Value - now).Duration() < TimeSpan.FromSeconds(1), $"{oldest:O} vs {now:O}");
        var claimed = await ClaimAsync();
        Assert.Equal(2, claimed.Count);
        Assert.All(claimed, c => Assert.True((c.DueAt - now).Duration() < TimeSpan.FromSeconds(1), $"{c.DueAt:O}"));
    }

    [Fact]
    public async Task JobEnqueueMany_Queued_SignalsJobsAvailable()
    {
        await Store.Signals.JobsAvailable.WaitAsync(TimeSpan.Zero, Ct);

        await EnqueueAsync();

        Assert.True(await Store.Signals.JobsAvailable.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }
}
