using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Coordination;

namespace Gantry.Worker.Tests.Coordination;

public sealed class HeldJobsTests
{
    private static ClaimedJob Claimed(long claim, int attempt = 1) => new()
    {
        Id = JobIds.New(), Type = "t", Queue = "default", Payload = "{}", Attempt = attempt, MaxAttempts = 3, WorkerId = "w", ClaimId = claim,
    };

    [Fact]
    public void Claimed_Jobs_HeldAndTheirClaimsNamedOnce()
    {
        var held = new HeldJobs();
        var (a, b, c) = (Claimed(7), Claimed(7), Claimed(9));

        held.Claimed([a, b]);
        held.Claimed([c]);

        var (jobs, claims) = held.Snapshot();
        Assert.Equal(new[] { a.Id, b.Id, c.Id }.Order(), jobs.Select(j => j.JobId).Order());
        Assert.Equal([7L, 9L], claims.Order());
    }

    [Fact]
    public void Claimed_StoreKeepsNoClaimRecords_NoClaimsNamed()
    {
        var held = new HeldJobs();
        held.Claimed([Claimed(0), Claimed(0)]);

        var (jobs, claims) = held.Snapshot();

        Assert.Equal(2, jobs.Length);
        Assert.Empty(claims);
    }

    [Fact]
    public void Written_Outcomes_NoLongerHeld_ProgressLogsAndCheckpointsKeepIt()
    {
        var held = new HeldJobs();
        var (done, failed, running) = (Claimed(1), Claimed(1), Claimed(1));
        held.Claimed([done, failed, running]);

        held.Written([
            new JobProgressReport(running.Id, 1, "w", 50, null),
            new JobCheckpointReport(running.Id, 1, "w", [1]),
            new JobLogReport(running.Id, 1, "w", []),
            new JobSucceededReport(done.Id, 1, "w", null),
            new JobFailedReport(failed.Id, 1, "w", new JobError(JobErrorKinds.Exception, "x"), JobState.Queued, null),
        ]);

        Assert.Equal([new JobLease(running.Id, 1)], held.Snapshot().Jobs);
    }

    [Fact]
    public void Written_OtherAttempt_StillHeld()
    {
        var held = new HeldJobs();
        var job = Claimed(1, attempt: 2);
        held.Claimed([job]);

        held.Written([new JobSucceededReport(job.Id, 1, "w", null)]);

        Assert.True(held.Holds(new JobLease(job.Id, 2)));
    }

    [Fact]
    public void Confirmed_ClaimsSent_NotNamedAgain_LaterOnesKept()
    {
        var held = new HeldJobs();
        held.Claimed([Claimed(1)]);
        var (_, sent) = held.Snapshot();
        held.Claimed([Claimed(2)]); // arrives while the heartbeat is on its way

        held.Confirmed(sent);

        Assert.Equal([2L], held.Snapshot().Claims);
    }

    [Fact]
    public void Release_Lost_NoLongerHeld()
    {
        var held = new HeldJobs();
        var job = Claimed(1);
        held.Claimed([job]);

        held.Release(new JobLease(job.Id, job.Attempt));

        Assert.Equal(0, held.Count);
    }
}
