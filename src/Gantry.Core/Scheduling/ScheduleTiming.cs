namespace Gantry.Scheduling;

/// <summary>The fires one round of the schedule firer makes for a schedule, in order, and how far its cursor moves.</summary>
/// <param name="Fires">Fire times to enqueue, oldest first.</param>
/// <param name="SkipThrough">When fires were dropped by the policy: the cursor moves here even if nothing fires.</param>
/// <param name="Missed">How many fire times were late beyond the grace (made up or dropped).</param>
public sealed record DueFires(IReadOnlyList<DateTimeOffset> Fires, DateTimeOffset? SkipThrough, int Missed);

/// <summary>
/// Which fires are due: the one rule of missed fires. A fire up to the misfire grace late (a failover, a busy
/// store) is made as usual; one later than that was missed (every server was down, or the schedule could not
/// fire) and follows the schedule's <see cref="MissedFirePolicy"/>.
/// </summary>
public static class ScheduleTiming
{
    /// <summary>How late a fire may be made and still count as on time: 10 seconds. A fire later than that is missed, and its schedule's <see cref="MissedFirePolicy"/> decides.</summary>
    public static readonly TimeSpan MisfireGraceDefault = TimeSpan.FromSeconds(10);

    /// <summary>Most fires made for one schedule in one round (within the grace): a bound on an expression firing every second.</summary>
    private const int MaxOnTime = 1000;

    /// <param name="firedThrough">The schedule's cursor: every fire time up to it has been made (or dropped).</param>
    public static DueFires Due(CronSchedule cron, ScheduleDefinition schedule, DateTimeOffset firedThrough, DateTimeOffset now, TimeSpan grace)
    {
        var lateLimit = now - grace;
        var fires = new List<DateTimeOffset>();
        DateTimeOffset? skipThrough = null;
        var missed = 0;
        if (firedThrough < lateLimit && cron.Next(firedThrough) is { } firstMissed && firstMissed <= lateLimit)
        {
            var keep = schedule.Missed switch
            {
                MissedFirePolicy.Once => 1,
                MissedFirePolicy.All => schedule.MaxCatchup,
                _ => 0,
            };
            // Counting every missed fire of a frequent schedule after a long outage would walk them all: count up to a bound.
            var at = firedThrough;
            while (missed < 100_000 && cron.Next(at) is { } next && next <= lateLimit) { missed++; at = next; }
            fires.AddRange(cron.LastMany(firedThrough, lateLimit, keep));
            skipThrough = lateLimit;
        }
        var cursor = firedThrough > lateLimit ? firedThrough : lateLimit;
        while (fires.Count < MaxOnTime && cron.Next(cursor) is { } next && next <= now)
        {
            fires.Add(next);
            cursor = next;
        }
        return new DueFires(fires, skipThrough, missed);
    }
}
