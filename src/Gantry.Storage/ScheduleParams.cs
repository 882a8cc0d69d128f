using Gantry.Jobs;
using Gantry.Scheduling;

namespace Gantry.Storage;

/// <summary>Who made a schedule: a person (CLI, API), gantry.json, or an application's code. Reconciling a declared set
/// removes only schedules of its own origin that it no longer declares.</summary>
public static class ScheduleOrigins
{
    /// <summary>Made by a person, with the CLI or the API.</summary>
    public const string Manual = "manual";
    /// <summary>Declared in gantry.json.</summary>
    public const string File = "file";
    /// <summary>Declared by an application's code.</summary>
    public const string Code = "code";
}

/// <summary>A stored schedule with its state.</summary>
public sealed record ScheduleRecord
{
    /// <summary>The schedule as defined.</summary>
    public required ScheduleDefinition Definition { get; init; }
    /// <summary>True while paused: nothing fires.</summary>
    public bool Paused { get; init; }
    /// <summary>Who made it: one of <see cref="ScheduleOrigins"/>.</summary>
    public required string Origin { get; init; }
    /// <summary>When the schedule was first made.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When its definition or pause last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Every cron fire time up to this one has been made or dropped; the next fire is after it.</summary>
    public DateTimeOffset FiredThrough { get; init; }
    /// <summary>The latest fire (a cron fire or a trigger), if any, and the job it made.</summary>
    public DateTimeOffset? LastFireTime { get; init; }
    /// <summary>The job <see cref="LastFireTime"/> made; null before the first fire.</summary>
    public Guid? LastJobId { get; init; }
}

/// <summary>What an upsert did.</summary>
public enum ScheduleUpsertOutcome
{
    /// <summary>No schedule had the name: it is made.</summary>
    Created,
    /// <summary>The name's schedule had another definition or origin: it is replaced.</summary>
    Updated,
    /// <summary>The name's schedule was the same already: nothing changed.</summary>
    Unchanged,
}

/// <summary>Creates a schedule or replaces its definition. A changed expression or zone starts counting fires from now
/// (the old cursor would read the new expression's past as missed); an unchanged one keeps its cursor.</summary>
public sealed record ScheduleUpsertParams(ScheduleDefinition Definition, string Origin = ScheduleOrigins.Manual);

/// <summary>One fire: the fire row (unique per schedule and fire time) and its job, in one transaction.</summary>
/// <param name="AdvanceCursor">True for a cron fire (the schedule's cursor moves to it); false for a trigger.</param>
public sealed record ScheduleFireParams(string Name, DateTimeOffset FireTime, NewJob Job, bool AdvanceCursor = true);

/// <param name="Fired">False when the fire had been made before (its job is then the one it made), or the schedule is gone or paused.</param>
public sealed record ScheduleFireResult(bool Fired, Guid? JobId);

/// <summary>Moves a schedule's cursor forward (never back) without firing: fires dropped by the skip policy.</summary>
public sealed record ScheduleAdvanceParams(string Name, DateTimeOffset Through);

/// <summary>Per-state retention of a queue's finished jobs; a null state keeps the default (<c>--retention</c>).</summary>
public sealed record QueueRetention(string Queue, TimeSpan? Succeeded, TimeSpan? Dead, TimeSpan? Cancelled)
{
    /// <summary>The longest anything Gantry prunes may be kept (finished jobs, workers, alerts): 100 years (36,500 days).</summary>
    public static readonly TimeSpan LongestKeep = TimeSpan.FromDays(36_500);

    /// <summary>Refuses a keep below zero or longer than <see cref="LongestKeep"/>, naming <paramref name="where"/>.</summary>
    /// <exception cref="InvalidInputException">The span is out of that range.</exception>
    public static void CheckKeep(TimeSpan? value, string where)
    {
        if (value is { } v && (v < TimeSpan.Zero || v > LongestKeep))
            throw new InvalidInputException(where, $"must be between 0 and 100 years (36500 days), got {v.TotalDays:0.###} days");
    }

    /// <summary>This retention, each state's keep checked by <see cref="CheckKeep"/>; <paramref name="field"/> spells a state's
    /// field as the caller's link names it (the state's name when null).</summary>
    /// <exception cref="InvalidInputException">A keep is out of range.</exception>
    public QueueRetention Validated(Func<string, string>? field = null)
    {
        CheckKeep(Succeeded, field?.Invoke("succeeded") ?? "succeeded");
        CheckKeep(Dead, field?.Invoke("dead") ?? "dead");
        CheckKeep(Cancelled, field?.Invoke("cancelled") ?? "cancelled");
        return this;
    }
}

/// <summary>No schedule has the given name.</summary>
public sealed class ScheduleNotFoundException(string name) : GantryException($"no schedule named {name}")
{
    /// <summary>The name asked for, as given.</summary>
    public string Name { get; } = name;
}
