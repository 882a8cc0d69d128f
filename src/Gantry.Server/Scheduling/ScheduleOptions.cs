using Gantry.Scheduling;

namespace Gantry.Server.Scheduling;

/// <summary>How the schedule firer runs, with its defaults.</summary>
public sealed record ScheduleOptions
{
    /// <summary>The default of <see cref="RefreshInterval"/>: 5 seconds.</summary>
    public static readonly TimeSpan RefreshIntervalDefault = TimeSpan.FromSeconds(5);

    /// <summary>How late a fire may be and still be made as usual (a failover, a slow store); a later one was missed and
    /// follows the schedule's policy. Defaults to 10 seconds.</summary>
    public TimeSpan MisfireGrace { get; init; } = ScheduleTiming.MisfireGraceDefault;

    /// <summary>Longest the firer sleeps without reading the schedules again, when no fire is due sooner and the store
    /// cannot wake it on a change made by another process (SQLite). Defaults to 5 seconds; kept under the grace, so that a
    /// schedule added from another process still makes its first fire.</summary>
    public TimeSpan RefreshInterval { get; init; } = RefreshIntervalDefault;

    /// <summary>The same longest sleep on a store that wakes the firer on every change (PostgreSQL). Defaults to 1 minute.</summary>
    public TimeSpan NotifiedRefreshInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Refuses a negative grace and a refresh interval under <see cref="Maintenance.MaintenanceOptions.LeastInterval"/> (<see cref="InvalidInputException"/>).</summary>
    public void Validate()
    {
        if (MisfireGrace < TimeSpan.Zero) throw new InvalidInputException("misfire grace", "must not be negative");
        if (RefreshInterval < Maintenance.MaintenanceOptions.LeastInterval || NotifiedRefreshInterval < Maintenance.MaintenanceOptions.LeastInterval)
            throw new InvalidInputException("schedule refresh interval", $"must be at least {Maintenance.MaintenanceOptions.LeastInterval.TotalMilliseconds:0}ms");
        Gantry.Time.Timers.CheckLongest(RefreshInterval, "schedule refresh interval");
        Gantry.Time.Timers.CheckLongest(NotifiedRefreshInterval, "schedule refresh interval");
    }
}
