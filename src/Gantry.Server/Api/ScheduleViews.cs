using System.Text.Json;
using Gantry.Scheduling;
using Gantry.Storage;

namespace Gantry.Server.Api;

/// <summary>A schedule as the API and <c>gantry cron list --json</c> show it: its definition (the keys of its document),
/// its state, its next three fire times and its last fire with the job it made.</summary>
public sealed record ScheduleView
{
    /// <summary>The schedule's name.</summary>
    public required string Name { get; init; }
    /// <summary>Its cron expression (five fields, or six with seconds).</summary>
    public required string Cron { get; init; }
    /// <summary>The IANA time zone the expression is read in.</summary>
    public required string Tz { get; init; }
    /// <summary>The job type each fire enqueues.</summary>
    public required string Type { get; init; }
    /// <summary>The payload of each job.</summary>
    public JsonElement Payload { get; init; }
    /// <summary>The queue of each job.</summary>
    public required string Queue { get; init; }
    /// <summary>The priority of each job.</summary>
    public int Priority { get; init; }
    /// <summary>What a fire missed while no server ran becomes: <c>skip</c>, <c>once</c> or <c>all</c>.</summary>
    public required string Missed { get; init; }
    /// <summary>With <c>all</c>: most missed fires made up at once.</summary>
    public int MaxCatchup { get; init; }
    /// <summary>Each job's attempt timeout in seconds; null for none.</summary>
    public double? TimeoutSeconds { get; init; }
    /// <summary>Each job's attempts.</summary>
    public int MaxAttempts { get; init; }
    /// <summary>Tags added to each job (beside <c>schedule</c> and <c>fire_time</c>); null for none.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>True while paused: it does not fire.</summary>
    public bool Paused { get; init; }
    /// <summary>manual (CLI, API), file (gantry.json) or code (declared by an application).</summary>
    public required string Origin { get; init; }
    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The next three fire times (UTC); none while paused.</summary>
    public IReadOnlyList<DateTimeOffset> NextFireTimes { get; init; } = [];
    /// <summary>Its last fire time; null before the first.</summary>
    public DateTimeOffset? LastFireTime { get; init; }
    /// <summary>The job its last fire made; null when none.</summary>
    public string? LastJobId { get; init; }

    /// <summary>How many next fire times <see cref="NextFireTimes"/> holds at most.</summary>
    internal const int NextShown = 3;

    /// <summary>The view of <paramref name="s"/> at <paramref name="now"/> (its next fire times from then).</summary>
    public static ScheduleView From(ScheduleRecord s, DateTimeOffset now)
    {
        var d = s.Definition;
        IReadOnlyList<DateTimeOffset> next = [];
        if (!s.Paused)
        {
            try
            {
                var from = s.FiredThrough > now ? s.FiredThrough : now;
                next = CronSchedule.Parse(d.Cron, d.TimeZone).NextMany(from, NextShown);
            }
            catch (InvalidInputException)
            {
                // A zone this machine lacks: nothing to show.
            }
        }
        using var payload = JsonDocument.Parse(d.Payload);
        return new ScheduleView
        {
            Name = d.Name, Cron = d.Cron, Tz = d.TimeZone, Type = d.Type, Payload = payload.RootElement.Clone(), Queue = d.Queue, Priority = d.Priority,
            Missed = d.Missed.ToText(), MaxCatchup = d.MaxCatchup, TimeoutSeconds = d.Timeout?.TotalSeconds, MaxAttempts = d.MaxAttempts,
            Tags = d.Tags.Count == 0 ? null : d.Tags, Paused = s.Paused, Origin = s.Origin, CreatedAt = s.CreatedAt, UpdatedAt = s.UpdatedAt,
            NextFireTimes = next, LastFireTime = s.LastFireTime, LastJobId = s.LastJobId?.ToString(),
        };
    }

    /// <summary>The definition back (a CLI over the API reads its answer as the store's record).</summary>
    public ScheduleRecord ToRecord() => new()
    {
        Definition = new ScheduleDefinition
        {
            Name = Name, Cron = Cron, TimeZone = Tz, Type = Type, Payload = Payload.ValueKind == JsonValueKind.Undefined ? "{}" : Payload.GetRawText(),
            Queue = Queue, Priority = Priority, Missed = MissedFirePolicies.Parse(Missed), MaxCatchup = MaxCatchup,
            Timeout = TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null, MaxAttempts = MaxAttempts, Tags = Tags ?? Jobs.NewJob.NoTags,
        },
        Paused = Paused, Origin = Origin, CreatedAt = CreatedAt, UpdatedAt = UpdatedAt, LastFireTime = LastFireTime,
        LastJobId = LastJobId is null ? null : Guid.Parse(LastJobId),
    };
}

/// <summary>The body of <c>POST /api/v1/schedules</c> (a schedule document; for the OpenAPI description).</summary>
internal sealed record ScheduleDocumentBody(
    string Name, string Cron, string Type, JsonElement? Payload = null, string? Tz = null, string? Queue = null, int? Priority = null,
    string? Missed = null, int? MaxCatchup = null, double? TimeoutSeconds = null, int? MaxAttempts = null, IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>What <c>POST /api/v1/schedules</c> did.</summary>
/// <param name="Name">The schedule's name.</param>
/// <param name="Outcome"><c>created</c>, <c>updated</c> or <c>unchanged</c>.</param>
/// <param name="Schedule">The schedule as stored now.</param>
public sealed record ScheduleSaveView(string Name, string Outcome, ScheduleView Schedule);

/// <summary>A fire made by <c>POST /api/v1/schedules/{name}/trigger</c>.</summary>
/// <param name="Name">The schedule's name.</param>
/// <param name="FireTime">The fire time given to the job (now).</param>
/// <param name="JobId">The job it made; null when none was.</param>
public sealed record ScheduleTriggerView(string Name, DateTimeOffset FireTime, string? JobId);

/// <summary>A queue's retention per state, in seconds (null: the default, <c>--retention</c>).</summary>
/// <param name="Queue">The queue.</param>
/// <param name="SucceededSeconds">How long its succeeded jobs are kept.</param>
/// <param name="DeadSeconds">How long its dead jobs are kept.</param>
/// <param name="CancelledSeconds">How long its cancelled jobs are kept.</param>
public sealed record QueueRetentionView(string Queue, double? SucceededSeconds, double? DeadSeconds, double? CancelledSeconds)
{
    /// <summary>The view of <paramref name="r"/>.</summary>
    public static QueueRetentionView From(QueueRetention r) =>
        new(r.Queue, r.Succeeded?.TotalSeconds, r.Dead?.TotalSeconds, r.Cancelled?.TotalSeconds);
}

/// <summary>The body of <c>PUT /api/v1/queues/{name}/retention</c>: seconds per state; a state left out keeps the default.</summary>
/// <param name="SucceededSeconds">How long succeeded jobs are kept, 0 to 100 years.</param>
/// <param name="DeadSeconds">How long dead jobs are kept, 0 to 100 years.</param>
/// <param name="CancelledSeconds">How long cancelled jobs are kept, 0 to 100 years.</param>
public sealed record QueueRetentionBody(double? SucceededSeconds = null, double? DeadSeconds = null, double? CancelledSeconds = null)
{
    internal QueueRetention ToRetention(string queue) => new(queue, Span(SucceededSeconds, "succeeded_seconds"), Span(DeadSeconds, "dead_seconds"), Span(CancelledSeconds, "cancelled_seconds"));

    private static TimeSpan? Span(double? seconds, string field) => seconds switch
    {
        null => null,
        double s when s >= 0 && s <= QueueRetention.LongestKeep.TotalSeconds => TimeSpan.FromSeconds(s),
        _ => throw new InvalidInputException(field, $"must be between 0 and 100 years in seconds, got {seconds}"),
    };
}
