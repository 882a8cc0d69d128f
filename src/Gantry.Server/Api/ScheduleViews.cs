using System.Text.Json;
using Gantry.Scheduling;
using Gantry.Storage;

namespace Gantry.Server.Api;

/// <summary>A schedule as the API and <c>gantry cron list --json</c> show it: its definition (the keys of its document),
/// its state, its next three fire times and its last fire with the job it made.</summary>
public sealed record ScheduleView
{
    public required string Name { get; init; }
    public required string Cron { get; init; }
    public required string Tz { get; init; }
    public required string Type { get; init; }
    public JsonElement Payload { get; init; }
    public required string Queue { get; init; }
    public int Priority { get; init; }
    public required string Missed { get; init; }
    public int MaxCatchup { get; init; }
    public double? TimeoutSeconds { get; init; }
    public int MaxAttempts { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public bool Paused { get; init; }
    /// <summary>manual (CLI, API), file (gantry.json) or code (declared by an application).</summary>
    public required string Origin { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The next three fire times (UTC); none while paused.</summary>
    public IReadOnlyList<DateTimeOffset> NextFireTimes { get; init; } = [];
    public DateTimeOffset? LastFireTime { get; init; }
    public string? LastJobId { get; init; }

    public const int NextShown = 3;

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
public sealed record ScheduleDocumentBody(
    string Name, string Cron, string Type, JsonElement? Payload = null, string? Tz = null, string? Queue = null, int? Priority = null,
    string? Missed = null, int? MaxCatchup = null, double? TimeoutSeconds = null, int? MaxAttempts = null, IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>What <c>POST /api/v1/schedules</c> did.</summary>
public sealed record ScheduleSaveView(string Name, string Outcome, ScheduleView Schedule);

/// <summary>A fire made by <c>POST /api/v1/schedules/{name}/trigger</c>.</summary>
public sealed record ScheduleTriggerView(string Name, DateTimeOffset FireTime, string? JobId);

/// <summary>A queue's retention per state, in seconds (null: the default, <c>--retention</c>).</summary>
public sealed record QueueRetentionView(string Queue, double? SucceededSeconds, double? DeadSeconds, double? CancelledSeconds)
{
    public static QueueRetentionView From(QueueRetention r) =>
        new(r.Queue, r.Succeeded?.TotalSeconds, r.Dead?.TotalSeconds, r.Cancelled?.TotalSeconds);
}

/// <summary>The body of <c>PUT /api/v1/queues/{name}/retention</c>: seconds per state; a state left out keeps the default.</summary>
public sealed record QueueRetentionBody(double? SucceededSeconds = null, double? DeadSeconds = null, double? CancelledSeconds = null)
{
    public QueueRetention ToRetention(string queue) => new(queue, Span(SucceededSeconds, "succeeded_seconds"), Span(DeadSeconds, "dead_seconds"), Span(CancelledSeconds, "cancelled_seconds"));

    private static TimeSpan? Span(double? seconds, string field) => seconds switch
    {
        null => null,
        >= 0 and <= 100 * 365 * 86400.0 => TimeSpan.FromSeconds(seconds.Value),
        _ => throw new InvalidInputException(field, $"must be between 0 and 100 years in seconds, got {seconds}"),
    };
}
