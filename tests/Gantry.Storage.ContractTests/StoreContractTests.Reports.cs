using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobReport_SucceededBatch_AppliesToRowsRewrittenSinceTheClaimToo()
    {
        // A store may remember where its claim wrote each row; a lease renewal or a progress report
        // writes the row again elsewhere, and the success must still find it (and only it).
        for (var i = 0; i < 3; i++) await EnqueueAsync();
        var claimed = await ClaimAsync(limit: 3);
        Assert.Equal(3, claimed.Count);
        Time.Advance(TimeSpan.FromSeconds(5));
        await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, [new(claimed[0].Id, claimed[0].Attempt)]), Ct);
        Assert.True(await ReportAsync(new JobProgressReport(claimed[1].Id, claimed[1].Attempt, claimed[1].WorkerId, 50, "half")));

        var applied = await Store.JobReportManyAsync([.. claimed.Select((c, i) => new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, $"{i}"))], Ct);

        Assert.Equal([true, true, true], applied);
        for (var i = 0; i < 3; i++)
        {
            var job = await GetAsync(claimed[i].Id);
            Assert.Equal(JobState.Succeeded, job.State);
            Assert.Equal($"{i}", job.Result);
        }
        // Applied once: the same successes again are stale.
        Assert.Equal([false, false, false], await Store.JobReportManyAsync([.. claimed.Select(c => new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, "again"))], Ct));
    }

    [Fact]
    public async Task JobReport_SameSuccessTwiceInOneBatch_FirstAppliedSecondStale()
    {
        for (var i = 0; i < 2; i++) await EnqueueAsync();
        var claimed = await ClaimAsync(limit: 2);
        Assert.Equal(2, claimed.Count);
        var (a, b) = (claimed[0], claimed[1]);

        var applied = await Store.JobReportManyAsync(
        [
            new JobSucceededReport(a.Id, a.Attempt, a.WorkerId, "first"),
            new JobSucceededReport(b.Id, b.Attempt, b.WorkerId, "b"),
            new JobSucceededReport(a.Id, a.Attempt, a.WorkerId, "second"),
        ], Ct);

        Assert.Equal([true, true, false], applied);
        Assert.Equal("first", (await GetAsync(a.Id)).Result);
        Assert.Equal(JobState.Succeeded, (await GetAsync(b.Id)).State);
    }

    [Fact]
    public async Task JobReport_Succeeded_StoresResultAndFinishes()
    {
        var claimed = await RunningAsync();

        Assert.True(await SucceedAsync(claimed, """{"answer":42}"""));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("""{"answer":42}""", job.Result);
        Assert.Equal(Time.GetUtcNow(), job.FinishedAt);
        Assert.Null(job.LeaseUntil);
        Assert.Empty(await ClaimAsync());
    }

    public static TheoryData<string> ReportKinds => new() { "progress", "succeeded", "failed", "cancelled", "requeued" };

    private static JobReport MakeReport(string kind, Guid id, int attempt, string worker) => kind switch
    {
        "progress" => new JobProgressReport(id, attempt, worker, 50, "half"),
        "succeeded" => new JobSucceededReport(id, attempt, worker, "1"),
        "failed" => new JobFailedReport(id, attempt, worker, new JobError(JobErrorKinds.Exception, "boom"), JobState.Dead, null),
        "cancelled" => new JobCancelledReport(id, attempt, worker),
        "requeued" => new JobRequeuedReport(id, attempt, worker),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(ReportKinds))]
    public async Task JobReport_WrongAttempt_RejectedAndNothingChanges(string kind)
    {
        var claimed = await RunningAsync();
        var before = await GetAsync(claimed.Id);

        Assert.False(await ReportAsync(MakeReport(kind, claimed.Id, claimed.Attempt + 1, claimed.WorkerId)));
        Assert.False(await ReportAsync(MakeReport(kind, claimed.Id, claimed.Attempt - 1, claimed.WorkerId)));

        Assert.Equal(Snapshot(before), Snapshot(await GetAsync(claimed.Id)));
    }

    [Theory]
    [MemberData(nameof(ReportKinds))]
    public async Task JobReport_WrongWorker_RejectedAndNothingChanges(string kind)
    {
        var claimed = await RunningAsync();
        var before = await GetAsync(claimed.Id);

        Assert.False(await ReportAsync(MakeReport(kind, claimed.Id, claimed.Attempt, "intruder")));

        Assert.Equal(Snapshot(before), Snapshot(await GetAsync(claimed.Id)));
    }

    [Theory]
    [MemberData(nameof(ReportKinds))]
    public async Task JobReport_JobNotRunning_Rejected(string kind)
    {
        var queued = await EnqueueAsync();

        Assert.False(await ReportAsync(MakeReport(kind, queued, 0, "w1")));
        Assert.False(await ReportAsync(MakeReport(kind, Guid.NewGuid(), 1, "w1")));
        Assert.Equal(JobState.Queued, (await GetAsync(queued)).State);
    }

    [Fact]
    public async Task JobReport_Batch_EachFencedOnItsOwn()
    {
        var a = await RunningAsync();
        var b = await RunningAsync();

        var applied = await Store.JobReportManyAsync(
        [
            new JobSucceededReport(a.Id, a.Attempt, a.WorkerId, null),
            new JobSucceededReport(b.Id, b.Attempt + 5, b.WorkerId, null),
            new JobProgressReport(b.Id, b.Attempt, b.WorkerId, 10, null),
        ], Ct);

        Assert.Equal([true, false, true], applied);
        Assert.Equal(JobState.Succeeded, (await GetAsync(a.Id)).State);
        Assert.Equal(JobState.Running, (await GetAsync(b.Id)).State);
    }

    [Fact]
    public async Task JobReport_Progress_VisibleWhileRunning()
    {
        var claimed = await RunningAsync();

        Assert.True(await ReportAsync(new JobProgressReport(claimed.Id, claimed.Attempt, claimed.WorkerId, 42.5, "copying")));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal(42.5, job.Progress);
        Assert.Equal("copying", job.ProgressMessage);
    }

    [Fact]
    public async Task JobReport_ProgressOutOfRange_Clamped()
    {
        var claimed = await RunningAsync();

        await ReportAsync(new JobProgressReport(claimed.Id, claimed.Attempt, claimed.WorkerId, 250, null));
        Assert.Equal(100, (await GetAsync(claimed.Id)).Progress);
        await ReportAsync(new JobProgressReport(claimed.Id, claimed.Attempt, claimed.WorkerId, -5, null));
        Assert.Equal(0, (await GetAsync(claimed.Id)).Progress);
    }

    [Fact]
    public async Task JobReport_Failed_ScheduledAtRunAtWithErrorKept()
    {
        var claimed = await RunningAsync(Job() with { MaxAttempts = 3 });
        var runAt = Time.GetUtcNow().AddSeconds(10);
        var error = new JobError(JobErrorKinds.Exception, "disk full", "System.IO.IOException", "at Foo.Bar()");

        Assert.True(await FailAsync(claimed, JobState.Scheduled, runAt, error));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(runAt, job.RunAt);
        Assert.Null(job.FinishedAt);
        var stored = Assert.Single(job.Errors);
        Assert.Equal(1, stored.Attempt);
        Assert.Equal("w1", stored.WorkerId);
        Assert.Equal(Time.GetUtcNow(), stored.At);
        Assert.Equal(error, stored.Error);
        Assert.Equal(runAt, await Store.JobNextDueAsync(Ct));
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task JobReport_FailedEveryAttempt_DeadWithEveryError()
    {
        var job = Job() with { MaxAttempts = 3 };
        await EnqueueAsync(job);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var claimed = await ClaimOneAsync($"w{attempt}");
            Assert.Equal(attempt, claimed.Attempt);
            var (next, runAt) = RetryPolicy.AfterFailure(claimed.Attempt, claimed.MaxAttempts, Backoff.Default, Time.GetUtcNow(), new Random(1));
            Assert.True(await FailAsync(claimed, next, runAt, new JobError(JobErrorKinds.Timeout, $"too slow {attempt}")));
            Time.Advance(TimeSpan.FromMinutes(1));
            await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct);
        }

        var dead = await GetAsync(job.Id);
        Assert.Equal(JobState.Dead, dead.State);
        Assert.NotNull(dead.FinishedAt);
        Assert.Equal([1, 2, 3], dead.Errors.Select(e => e.Attempt));
        Assert.Equal(["w1", "w2", "w3"], dead.Errors.Select(e => e.WorkerId));
        Assert.All(dead.Errors, e => Assert.Equal(JobErrorKinds.Timeout, e.Error.Kind));
        Assert.Equal("too slow 2", dead.Errors[1].Error.Message);
        Assert.Empty(await ClaimAsync());
    }

    [Theory]
    [InlineData("queued")]
    [InlineData("scheduled")]
    public async Task JobReport_LastAttemptFailedWithARetryAsked_DeadAnyway(string asked)
    {
        // A worker does not decide whether attempts are left: a retry asked for on the last attempt ends the job dead.
        var claimed = await RunningAsync(Job() with { MaxAttempts = 1 });
        var next = JobStates.Parse(asked);

        Assert.True(await FailAsync(claimed, next, next == JobState.Scheduled ? Time.GetUtcNow().AddSeconds(1) : null));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Null(job.RunAt);
        Assert.Equal(Time.GetUtcNow(), job.FinishedAt);
        Assert.Single(job.Errors);
        Time.Advance(TimeSpan.FromMinutes(1));
        await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct);
        Assert.Empty(await ClaimAsync());
        Assert.Equal(JobState.Dead, (await GetAsync(claimed.Id)).State);
    }

    [Fact]
    public async Task JobReport_FailedToQueued_ClaimableAtOnce()
    {
        var claimed = await RunningAsync();

        Assert.True(await FailAsync(claimed, JobState.Queued));

        Assert.Equal(2, (await ClaimOneAsync("w2")).Attempt);
    }

    [Fact]
    public async Task JobReport_FailedWithIllegalNext_ThrowsAndChangesNothing()
    {
        var claimed = await RunningAsync();

        await Assert.ThrowsAsync<IllegalTransitionException>(() => FailAsync(claimed, JobState.Succeeded));

        Assert.Equal(JobState.Running, (await GetAsync(claimed.Id)).State);
    }

    [Fact]
    public async Task JobReport_Requeued_QueuedWithAttemptNotCounted()
    {
        var claimed = await RunningAsync();

        Assert.True(await ReportAsync(new JobRequeuedReport(claimed.Id, claimed.Attempt, claimed.WorkerId)));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.LeaseUntil);
        Assert.Empty(job.Errors);
        var again = await ClaimOneAsync("w2");
        Assert.Equal(1, again.Attempt);
        Assert.False(await SucceedAsync(claimed));
        Assert.True(await SucceedAsync(again));
    }

    [Fact]
    public async Task JobReport_LeaseExpiredAndRescued_StaleSuccessRejectedNewAccepted()
    {
        var stale = await RunningAsync(Job() with { MaxAttempts = 3 });
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var rescued = Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(new RescuedJob(stale.Id, 1, "w1", JobState.Queued), rescued);
        var fresh = await ClaimOneAsync("w1");
        Assert.Equal(2, fresh.Attempt);

        Assert.False(await SucceedAsync(stale, "stale"));
        Assert.True(await SucceedAsync(fresh, "fresh"));
        var job = await GetAsync(stale.Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("fresh", job.Result);
        var lost = Assert.Single(job.Errors);
        Assert.Equal(JobErrorKinds.WorkerLost, lost.Error.Kind);
        Assert.Equal(1, lost.Attempt);
    }
}
