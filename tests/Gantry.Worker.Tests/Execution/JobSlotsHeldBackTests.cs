using Gantry.Flow;
using Gantry.Storage;
using Gantry.Worker.Execution;

namespace Gantry.Worker.Tests.Execution;

/// <summary>A queue a flow limit held back is asked again within milliseconds; one that came back empty waits for the poll interval.</summary>
public sealed class JobSlotsHeldBackTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    private sealed class SteppedTime : TimeProvider
    {
        private long _now;
        public override long GetTimestamp() => _now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public void Advance(TimeSpan by) => _now += by.Ticks;
    }

    [Fact]
    public void HeldBackQueue_AskedAgainAfterTenMilliseconds_DoublingWhileItBringsNothing()
    {
        var time = new SteppedTime();
        var slots = OneQueue(4, time);
        var plan = slots.Plan();
        Assert.Equal(4, plan.Wanted);

        // Held back: not "nothing to do until new work comes", and asked again after 10 ms.
        Assert.False(slots.Claimed(plan, new ClaimedJobs([], ["default"])));
        var waiting = slots.Plan();
        Assert.Equal((0, JobSlots.HeldBackRecheck), (waiting.Wanted, waiting.Recheck));
        time.Advance(JobSlots.HeldBackRecheck);
        plan = slots.Plan();
        Assert.Equal(4, plan.Wanted);

        // Held back again with nothing brought: twice as long.
        slots.Claimed(plan, new ClaimedJobs([], ["default"]));
        Assert.Equal(JobSlots.HeldBackRecheck * 2, slots.Plan().Recheck);
    }

    [Fact]
    public void HeldBackQueue_WhileItsJobsRunHere_NoDoubling()
    {
        var time = new SteppedTime();
        var slots = OneQueue(4, time);
        var job = new ClaimedJob { Id = Guid.NewGuid(), Type = "t", Queue = "default", Payload = "{}", Attempt = 1, MaxAttempts = 1, WorkerId = "w" };
        slots.Claimed(slots.Plan(), new ClaimedJobs([job], ["default"]));
        slots.AddClaimed([job]);
        Assert.True(slots.TryStartNext(out _));
        for (var i = 0; i < 3; i++)
        {
            time.Advance(Poll);
            slots.Claimed(slots.Plan(), new ClaimedJobs([], ["default"]));
            Assert.Equal(JobSlots.HeldBackRecheck, slots.Plan().Recheck);
        }
    }

    [Fact]
    public void JobEnds_WhileTheOnlyQueueIsHeldBack_DoNotCallForAPlan_AfterItIsDueAgainTheyDo()
    {
        // Under a limit that binds, each job that ends here would wake the planner to find the queue still held back.
        var time = new SteppedTime();
        var slots = OneQueue(4, time);
        var jobs = Enumerable.Range(0, 5).Select(_ => NewJob()).ToArray();
        slots.Claimed(slots.Plan(), new ClaimedJobs(jobs[..1], ["default"]));
        slots.AddClaimed(jobs[..1]);
        Assert.True(slots.TryStartNext(out _));
        Assert.Equal(0, slots.Plan().Wanted); // held back: waits
        Assert.False(slots.Finished(jobs[0].Id, "default", TimeSpan.FromMilliseconds(1), reported: true));

        // Its outcome written: due again (the write wakes the planner itself); from that plan on, ends call for one.
        Assert.True(slots.ReportsWritten(Succeeded(jobs[..1])));
        var plan = slots.Plan();
        Assert.Equal(4, plan.Wanted);
        slots.Claimed(plan, jobs[1..]);
        slots.AddClaimed(jobs[1..]);
        Assert.True(slots.TryStartNext(out _));
        Assert.True(slots.Finished(jobs[1].Id, "default", TimeSpan.FromMilliseconds(1), reported: true));
    }

    /// <summary>The slots of a worker of one queue, "default", with <paramref name="limit"/> slots and no prefetch.</summary>
    private static JobSlots OneQueue(int limit, TimeProvider time) =>
        new(new Dictionary<string, int> { ["default"] = limit }, limit, maxPrefetch: 0, Poll, time);

    /// <summary>A worker of one queue with <paramref name="limit"/> slots, running the half of them its claim brought
    /// before a flow limit cut it short.</summary>
    private static (JobSlots Slots, ClaimedJob[] Jobs) RunningHalfOf(int limit)
    {
        var slots = OneQueue(limit, new SteppedTime());
        var jobs = Enumerable.Range(0, limit / 2).Select(_ => NewJob()).ToArray();
        slots.Claimed(slots.Plan(), new ClaimedJobs(jobs, ["default"]));
        slots.AddClaimed(jobs);
        for (var i = 0; i < jobs.Length; i++) Assert.True(slots.TryStartNext(out _));
        return (slots, jobs);
    }

    private static JobReport[] Succeeded(IEnumerable<ClaimedJob> jobs) => jobs.Select(j => (JobReport)new JobSucceededReport(j.Id, 1, "w", null)).ToArray();

    private static ClaimedJob NewJob() => new() { Id = Guid.NewGuid(), Type = "t", Queue = "default", Payload = "{}", Attempt = 1, MaxAttempts = 1, WorkerId = "w" };

    [Fact]
    public void HeldBackClaimThatBroughtHalf_AskedAgainAtOnce_LessWaitsForSlots()
    {
        var time = new SteppedTime();
        var slots = OneQueue(8, time);
        // Four jobs of eight: a limit cut the claim short, but room may be left (a claim takes at most half a large limit).
        ClaimedJob[] four = [NewJob(), NewJob(), NewJob(), NewJob()];
        Assert.False(slots.Claimed(slots.Plan(), new ClaimedJobs(four, ["default"])));
        slots.AddClaimed(four);
        var plan = slots.Plan();
        Assert.Equal(4, plan.Wanted);

        // One of four: little room, so the queue waits for slots to free instead of being asked again for crumbs.
        var one = NewJob();
        slots.Claimed(plan, new ClaimedJobs([one], ["default"]));
        slots.AddClaimed([one]);
        var waiting = slots.Plan();
        Assert.Equal((0, JobSlots.HeldBackRecheck), (waiting.Wanted, waiting.Recheck));
    }

    [Fact]
    public void HeldBackClaimThatBroughtALargeClaimsWorth_AskedAgainAtOnce_ThoughLessThanHalfOfTheAsk()
    {
        // A worker whose prefetch asks for more than twice a limit's claim ceiling (half the limit): a claim that brought
        // the ceiling is cut short by the ceiling, not by a full limit; waiting for slots to free would leave room unused.
        var time = new SteppedTime();
        var slots = OneQueue(1000, time);
        var plan = slots.Plan();
        Assert.Equal(1000, plan.Wanted);
        var claimed = Enumerable.Range(0, QueueLimits.WholeClaim).Select(_ => NewJob()).ToArray();
        Assert.False(slots.Claimed(plan, new ClaimedJobs(claimed, ["default"])));
        slots.AddClaimed(claimed);
        Assert.Equal(1000 - QueueLimits.WholeClaim, slots.Plan().Wanted);

        // One fewer than that, and less than half of the ask: the queue waits for slots to free.
        plan = slots.Plan();
        var fewer = Enumerable.Range(0, QueueLimits.WholeClaim - 1).Select(_ => NewJob()).ToArray();
        slots.Claimed(plan, new ClaimedJobs(fewer, ["default"]));
        slots.AddClaimed(fewer);
        Assert.Equal(0, slots.Plan().Wanted);
    }

    [Fact]
    public void ReportsWritten_HeldBackQueueWithAJobEndedHere_DueAtOnce()
    {
        var time = new SteppedTime();
        var slots = OneQueue(4, time);
        var job = NewJob();
        slots.Claimed(slots.Plan(), new ClaimedJobs([job], ["default"]));
        slots.AddClaimed([job]);
        Assert.True(slots.TryStartNext(out _));
        slots.Claimed(slots.Plan(), new ClaimedJobs([], ["default"]));
        Assert.Equal(0, slots.Plan().Wanted);
        // Reports written before any job of the queue ended here free nothing this worker knows of.
        Assert.False(slots.ReportsWritten([new JobSucceededReport(Guid.NewGuid(), 1, "w", null)]));
        Assert.Equal(0, slots.Plan().Wanted);

        // Its job ended and its outcome is written: its slot is free in the store, and the queue is due before its recheck.
        slots.Finished(job.Id, "default", TimeSpan.FromMilliseconds(1), reported: true);
        Assert.True(slots.ReportsWritten([new JobSucceededReport(job.Id, 1, "w", null)]));
        Assert.Equal(4, slots.Plan().Wanted);
    }

    [Fact]
    public void ReportsWritten_JobsEndedDuringAnEarlierWrite_MakeTheQueueDueWhenTheirOwnWriteLands()
    {
        // The first outcome of a claim is written alone while the others end; a held-back claim made in between finds
        // only the first one's room. The others' write, landing after that claim, is what frees their slots: it makes the
        // queue due at once, not at its recheck.
        var (slots, jobs) = RunningHalfOf(8);
        slots.Finished(jobs[0].Id, "default", TimeSpan.FromMilliseconds(1), reported: true);
        // Its write is under way; the other three end meanwhile.
        foreach (var job in jobs[1..]) slots.Finished(job.Id, "default", TimeSpan.FromMilliseconds(1), reported: true);
        Assert.False(slots.ReportsWritten([new JobSucceededReport(jobs[0].Id, 1, "w", null)])); // not held back yet: nothing to wake
        // A claim made now comes back held back with nothing: the three outcomes are not written yet.
        slots.Claimed(slots.Plan(), new ClaimedJobs([], ["default"]));
        Assert.Equal(0, slots.Plan().Wanted);
        // Their write lands: due at once.
        Assert.True(slots.ReportsWritten(Succeeded(jobs[1..])));
        Assert.Equal(8, slots.Plan().Wanted);
        // Written once: the same outcomes written again (a retried group) wake nothing more.
        slots.Claimed(slots.Plan(), new ClaimedJobs([], ["default"]));
        Assert.False(slots.ReportsWritten([new JobSucceededReport(jobs[1].Id, 1, "w", null)]));
    }

    [Fact]
    public void ReportsWritten_AFewFreedWhileMoreOfTheQueueAreOnTheirWay_TheQueueWaitsForThem()
    {
        // A write that frees a few slots while more of the queue's outcomes are still to be written does not make the
        // held-back queue due (a claim for a few jobs costs the store nearly what a large one does); the write of the
        // rest does.
        var (slots, jobs) = RunningHalfOf(8);
        foreach (var job in jobs) slots.Finished(job.Id, "default", TimeSpan.FromMilliseconds(1), reported: true);
        slots.Claimed(slots.Plan(), new ClaimedJobs([], ["default"]));
        // Held back with outcomes on their way: the recheck is the fallback for a write slow to land, not 10 ms.
        Assert.Equal((0, JobSlots.UnwrittenRecheck), (slots.Plan().Wanted, slots.Plan().Recheck));

        Assert.False(slots.ReportsWritten([new JobSucceededReport(jobs[0].Id, 1, "w", null)]));
        Assert.Equal(0, slots.Plan().Wanted);
        Assert.True(slots.ReportsWritten(Succeeded(jobs[1..])));
        Assert.Equal(8, slots.Plan().Wanted);
    }

    [Fact]
    public void HeldBackClaimThatBroughtALargeClaimsWorth_WhileOutcomesAreOnTheirWay_WaitsForTheirWrite()
    {
        // Room left after a large held-back claim is mostly what the outcomes written so far freed; the write under way
        // frees more. The queue is asked again when that write lands, not at once.
        var time = new SteppedTime();
        var slots = OneQueue(1000, time);
        var first = Enumerable.Range(0, QueueLimits.WholeClaim).Select(_ => NewJob()).ToArray();
        slots.Claimed(slots.Plan(), new ClaimedJobs(first, ["default"]));
        slots.AddClaimed(first);
        while (slots.TryStartNext(out var started)) slots.Finished(started.Id, "default", TimeSpan.FromMilliseconds(1), reported: true);

        var plan = slots.Plan();
        var second = Enumerable.Range(0, QueueLimits.WholeClaim).Select(_ => NewJob()).ToArray();
        slots.Claimed(plan, new ClaimedJobs(second, ["default"]));
        slots.AddClaimed(second);
        Assert.Equal(0, slots.Plan().Wanted);
        Assert.True(slots.ReportsWritten(Succeeded(first)));
        Assert.Equal(1000 - QueueLimits.WholeClaim, slots.Plan().Wanted);
    }

    [Fact]
    public void ShortClaimWithoutTheWord_QueueTakenForEmptyUntilThePollInterval()
    {
        var time = new SteppedTime();
        var slots = OneQueue(4, time);
        Assert.True(slots.Claimed(slots.Plan(), []));
        var waiting = slots.Plan();
        Assert.Equal((0, Poll), (waiting.Wanted, waiting.Recheck));
    }
}
