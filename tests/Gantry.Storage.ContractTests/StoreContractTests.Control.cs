using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task JobCancel_Queued_CancelledAtOnce()
    {
        var id = await EnqueueAsync();

        var result = await Store.JobCancelAsync(id, Ct);

        Assert.Equal(new JobCancelResult(id, JobCancelOutcome.Cancelled), result);
        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(Time.GetUtcNow(), job.FinishedAt);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task JobCancel_Scheduled_CancelledAndNeverPromoted()
    {
        var id = await EnqueueAsync(Job() with { RunAt = Time.GetUtcNow().AddMinutes(1) });

        Assert.Equal(JobCancelOutcome.Cancelled, (await Store.JobCancelAsync(id, Ct)).Outcome);

        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await Store.JobPromoteDueAsync(new JobPromoteParams(), Ct));
        Assert.Equal(JobState.Cancelled, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task JobCancelNow_Running_CancelJobNowCommand_AndAgainAfterAPlainCancel()
    {
        var claimed = await RunningAsync(worker: "w1");

        Assert.Equal(JobCancelOutcome.Requested, (await Store.JobCancelAsync(claimed.Id, now: true, Ct)).Outcome);
        Assert.Equal([new WorkerCommand(WorkerCommandKind.CancelJobNow, claimed.Id)], await Store.WorkerCommandsTakeAsync("w1", Ct));

        // A plain cancel under way can be cut short: the second request reaches the worker as well.
        await Store.JobCancelAsync(claimed.Id, Ct);
        await Store.JobCancelAsync(claimed.Id, now: true, Ct);
        Assert.Equal([new WorkerCommand(WorkerCommandKind.CancelJob, claimed.Id), new WorkerCommand(WorkerCommandKind.CancelJobNow, claimed.Id)],
            await Store.WorkerCommandsTakeAsync("w1", Ct));
        Assert.Equal(JobState.Running, (await GetAsync(claimed.Id)).State);
    }

    [Fact]
    public async Task JobCancelNow_Queued_CancelledAtOnceWithoutCommand()
    {
        var id = await EnqueueAsync();

        Assert.Equal(JobCancelOutcome.Cancelled, (await Store.JobCancelAsync(id, now: true, Ct)).Outcome);
        Assert.Equal(JobState.Cancelled, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task JobCancel_Running_RequestedAndCommandTakenOnce()
    {
        var claimed = await RunningAsync(worker: "w1");

        var result = await Store.JobCancelAsync(claimed.Id, Ct);

        Assert.Equal(new JobCancelResult(claimed.Id, JobCancelOutcome.Requested), result);
        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal(Time.GetUtcNow(), job.CancelRequestedAt);
        Assert.Empty(await Store.WorkerCommandsTakeAsync("w2", Ct));
        Assert.Equal([new WorkerCommand(WorkerCommandKind.CancelJob, claimed.Id)], await Store.WorkerCommandsTakeAsync("w1", Ct));
        Assert.Empty(await Store.WorkerCommandsTakeAsync("w1", Ct));

        Assert.True(await ReportAsync(new JobCancelledReport(claimed.Id, claimed.Attempt, claimed.WorkerId)));
        job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public async Task JobCancel_Running_CommandHandedOverByHeartbeat()
    {
        var claimed = await RunningAsync(worker: "w1");
        await Store.WorkerRegisterAsync(Worker("w1"), Ct);

        await Store.JobCancelAsync(claimed.Id, Ct);
        var held = new[] { new JobLease(claimed.Id, claimed.Attempt) };
        var result = await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, held), Ct);

        Assert.Equal([new WorkerCommand(WorkerCommandKind.CancelJob, claimed.Id)], result.Commands);
        Assert.Empty(result.LostJobs);
        Assert.Empty((await Store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("w1", Lease, held), Ct)).Commands);
    }

    [Fact]
    public async Task JobCancel_Running_SignalsCommandsAvailable()
    {
        var claimed = await RunningAsync();
        await Store.Signals.CommandsAvailable.WaitAsync(TimeSpan.Zero, Ct);

        await Store.JobCancelAsync(claimed.Id, Ct);

        Assert.True(await Store.Signals.CommandsAvailable.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task JobCancel_Finished_ThrowsIllegalTransition()
    {
        var succeeded = await RunningAsync();
        await SucceedAsync(succeeded);
        var dead = await RunningAsync();
        await FailAsync(dead, JobState.Dead);
        var cancelled = await EnqueueAsync();
        await Store.JobCancelAsync(cancelled, Ct);

        foreach (var id in new[] { succeeded.Id, dead.Id, cancelled })
        {
            var before = Snapshot(await GetAsync(id));
            var ex = await Assert.ThrowsAsync<IllegalTransitionException>(() => Store.JobCancelAsync(id, Ct));
            Assert.Equal(JobTransition.Cancel, ex.Transition);
            Assert.Equal(before, Snapshot(await GetAsync(id)));
        }
    }

    [Fact]
    public async Task JobCancel_UnknownId_ThrowsJobNotFound()
    {
        var id = Guid.NewGuid();

        var ex = await Assert.ThrowsAsync<JobNotFoundException>(() => Store.JobCancelAsync(id, Ct));

        Assert.Equal(id.ToString(), ex.JobId);
    }

    [Fact]
    public async Task JobRetry_Dead_QueuedWithFreshAttemptBudget()
    {
        var job = Job() with { MaxAttempts = 2 };
        await EnqueueAsync(job);
        for (var i = 0; i < 2; i++)
        {
            var c = await ClaimOneAsync();
            await FailAsync(c, i == 0 ? JobState.Queued : JobState.Dead);
        }
        Assert.Equal(JobState.Dead, (await GetAsync(job.Id)).State);

        await Store.JobRetryAsync(job.Id, Ct);

        var retried = await GetAsync(job.Id);
        Assert.Equal(JobState.Queued, retried.State);
        Assert.Null(retried.FinishedAt);
        var claimed = await ClaimOneAsync();
        Assert.Equal(3, claimed.Attempt);
        Assert.Equal(2, claimed.MaxAttempts - claimed.Attempt + 1);
        var (next, _) = RetryPolicy.AfterFailure(claimed.Attempt, claimed.MaxAttempts, Backoff.Default, Time.GetUtcNow(), new Random(1));
        Assert.Equal(JobState.Scheduled, next);
    }

    [Fact]
    public async Task JobRetry_Cancelled_QueuedAndClaimable()
    {
        var id = await EnqueueAsync();
        await Store.JobCancelAsync(id, Ct);

        await Store.JobRetryAsync(id, Ct);

        var job = await GetAsync(id);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Null(job.CancelRequestedAt);
        var claimed = await ClaimOneAsync();
        Assert.Equal(id, claimed.Id);
        Assert.Equal(NewJob.MaxAttemptsDefault, claimed.MaxAttempts - claimed.Attempt + 1);
    }

    [Fact]
    public async Task JobRetry_NotDeadOrCancelled_ThrowsIllegalTransition()
    {
        var running = await RunningAsync();
        var succeeded = await RunningAsync();
        await SucceedAsync(succeeded);
        var queued = await EnqueueAsync();

        foreach (var id in new[] { queued, running.Id, succeeded.Id })
        {
            var before = Snapshot(await GetAsync(id));
            await Assert.ThrowsAsync<IllegalTransitionException>(() => Store.JobRetryAsync(id, Ct));
            Assert.Equal(before, Snapshot(await GetAsync(id)));
        }
    }

    [Fact]
    public async Task JobRetry_UnknownId_ThrowsJobNotFound() =>
        await Assert.ThrowsAsync<JobNotFoundException>(() => Store.JobRetryAsync(Guid.NewGuid(), Ct));

    [Fact]
    public async Task JobReport_FailedAfterCancelRequested_CancelledWithErrorKept()
    {
        var claimed = await RunningAsync(Job() with { MaxAttempts = 5 });
        await Store.JobCancelAsync(claimed.Id, Ct);

        Assert.True(await FailAsync(claimed, JobState.Scheduled, Time.GetUtcNow().AddSeconds(5)));

        var job = await GetAsync(claimed.Id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.NotNull(job.FinishedAt);
        Assert.Single(job.Errors);
        Assert.Null(await Store.JobNextDueAsync(Ct));
    }

    [Fact]
    public async Task JobReport_RequeuedAfterCancelRequested_Cancelled()
    {
        var claimed = await RunningAsync();
        await Store.JobCancelAsync(claimed.Id, Ct);

        Assert.True(await ReportAsync(new JobRequeuedReport(claimed.Id, claimed.Attempt, claimed.WorkerId)));

        Assert.Equal(JobState.Cancelled, (await GetAsync(claimed.Id)).State);
        Assert.Empty(await ClaimAsync());
    }
}
