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
        var slots = new JobSlots(new Dictionary<string, int> { ["default"] = 4 }, 4, maxPrefetch: 0, Poll, time);
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
        var slots = new JobSlots(new Dictionary<string, int> { ["default"] = 4 }, 4, maxPrefetch: 0, Poll, time);
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

    private static ClaimedJob NewJob() => new() { Id = Guid.NewGuid(), Type = "t", Queue = "default", Payload = "{}", Attempt = 1, MaxAttempts = 1, WorkerId = "w" };

    [Fact]
    public void HeldBackClaimThatBroughtHalf_AskedAgainAtOnce_LessWaitsForSlots()
    {
        var time = new SteppedTime();
        var slots = new JobSlots(new Dictionary<string, int> { ["default"] = 8 }, 8, maxPrefetch: 0, Poll, time);
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
        var slots = new JobSlots(new Dictionary<string, int> { ["default"] = 1000 }, 1000, maxPrefetch: 0, Poll, time);
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
        var slots = new JobSlots(new Dictionary<string, int> { ["default"] = 4 }, 4, maxPrefetch: 0, Poll, time);
        var job = NewJob();
        slots.Claimed(slots.Plan(), new ClaimedJobs([job], ["default"]));
        slots.AddClaimed([job]);
        Assert.True(slots.TryStartNext(out _));
        slots.Claimed(slots.Plan(), new ClaimedJobs([], ["default"]));
        Assert.Equal(0, slots.Plan().Wanted);
        // Reports written before any job of the queue ended here free nothing this worker knows of.
        Assert.False(slots.ReportsWritten());
        Assert.Equal(0, slots.Plan().Wanted);

        // Its job ended and the report is written: its slot is free in the store, and the queue is due before its recheck.
        slots.Finished("default", TimeSpan.FromMilliseconds(1));
        Assert.True(slots.ReportsWritten());
        Assert.Equal(4, slots.Plan().Wanted);
    }

    [Fact]
    public void ShortClaimWithoutTheWord_QueueTakenForEmptyUntilThePollInterval()
    {
        var time = new SteppedTime();
        var slots = new JobSlots(new Dictionary<string, int> { ["default"] = 4 }, 4, maxPrefetch: 0, Poll, time);
        Assert.True(slots.Claimed(slots.Plan(), []));
        var waiting = slots.Plan();
        Assert.Equal((0, Poll), (waiting.Wanted, waiting.Recheck));
    }
}
