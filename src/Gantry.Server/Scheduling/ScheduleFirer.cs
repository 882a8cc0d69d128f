using Gantry.Scheduling;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Scheduling;

/// <summary>
/// Makes the fires of every schedule when they come (a maintenance service: it runs in the leader only). Each round
/// reads the schedules, makes every fire due (<see cref="ScheduleTiming.Due"/>), then sleeps until the next fire time of
/// any schedule, woken early when a schedule changes. Exactly one job per fire time is the store's doing: a fire is a
/// record keyed by (schedule, fire time), written with its job in one transaction, so a second leader, a retried round
/// or a clock stepped back makes nothing twice.
/// </summary>
internal sealed class ScheduleFirer(IJobStore store, ScheduleOptions options, ILogger<ScheduleFirer> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    private DateTimeOffset? _next;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        DateTimeOffset? next = null;
        var fired = 0;
        foreach (var schedule in await store.ScheduleListAsync(ct).ConfigureAwait(false))
        {
            if (schedule.Paused) continue;
            var definition = schedule.Definition;
            CronSchedule cron;
            try
            {
                cron = definition.Validate(Gantry.Protocol.JobLimits.Default);
            }
            catch (InvalidInputException ex)
            {
                // Stored valid, but this machine may lack its zone: say so each round, fire the others.
                ScheduleLog.Unusable(Logger, definition.Name, ex.Message);
                continue;
            }
            var due = ScheduleTiming.Due(cron, definition, schedule.FiredThrough, now, options.MisfireGrace);
            if (due.Missed > 0) ScheduleLog.Missed(Logger, definition.Name, due.Missed, definition.Missed.ToText(), due.Fires.Count(f => f <= now - options.MisfireGrace));
            try
            {
                if (due.SkipThrough is { } through) await store.ScheduleAdvanceAsync(new ScheduleAdvanceParams(definition.Name, through), ct).ConfigureAwait(false);
                foreach (var fire in due.Fires)
                {
                    var result = await store.ScheduleFireAsync(new ScheduleFireParams(definition.Name, fire, definition.JobFor(fire, Time)), ct).ConfigureAwait(false);
                    if (result.Fired)
                    {
                        fired++;
                        ScheduleLog.Fired(Logger, definition.Name, ScheduleDefinition.FireTimeText(fire), result.JobId);
                    }
                }
            }
            catch (ScheduleNotFoundException)
            {
                continue; // removed meanwhile
            }
            var last = due.Fires.Count > 0 && due.Fires[^1] > now ? due.Fires[^1] : now;
            if (cron.Next(last) is { } upcoming && (next is null || upcoming < next)) next = upcoming;
        }
        _next = next;
        return fired;
    }

    protected override async Task WaitAsync(CancellationToken ct)
    {
        var wait = store.SupportsCrossProcessNotifications ? options.NotifiedRefreshInterval : options.RefreshInterval;
        if (_next is { } next)
        {
            var untilDue = next - Time.GetUtcNow();
            if (untilDue < wait) wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
        }
        if (wait > TimeSpan.Zero) await store.Signals.SchedulesChanged.WaitAsync(wait, ct).ConfigureAwait(false);
    }
}

internal static partial class ScheduleLog
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Schedule {Schedule} fired for {FireTime}: job {JobId}")]
    public static partial void Fired(ILogger logger, string schedule, string fireTime, Guid? jobId);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Schedule {Schedule} missed {Missed} fire(s) (policy {Policy}): {MadeUp} made up")]
    public static partial void Missed(ILogger logger, string schedule, int missed, string policy, int madeUp);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Schedule {Schedule} cannot fire on this server: {Problem}")]
    public static partial void Unusable(ILogger logger, string schedule, string problem);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Schedules from {Origin}: {Created} created, {Updated} updated, {Removed} removed")]
    public static partial void Reconciled(ILogger logger, string origin, int created, int updated, int removed);
}
