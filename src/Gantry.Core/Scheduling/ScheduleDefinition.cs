using System.Text.Json;
using System.Text.RegularExpressions;
using Gantry.Jobs;
using Gantry.Protocol;

namespace Gantry.Scheduling;

/// <summary>What a schedule does with fires missed while no server ran it (or while it was more than
/// the misfire grace late, see <see cref="ScheduleTiming"/>).</summary>
public enum MissedFirePolicy
{
    /// <summary>Drop them: the next fire is the next one to come.</summary>
    Skip,
    /// <summary>One job for everything missed, standing for the latest missed fire time.</summary>
    Once,
    /// <summary>A job for each missed fire, the latest <see cref="ScheduleDefinition.MaxCatchup"/> of them.</summary>
    All,
}

/// <summary>Text forms of <see cref="MissedFirePolicy"/>, as written in documents and stored.</summary>
public static class MissedFirePolicies
{
    /// <summary>The text form: <c>skip</c>, <c>once</c> or <c>all</c>.</summary>
    public static string ToText(this MissedFirePolicy policy) => policy switch
    {
        MissedFirePolicy.Skip => "skip",
        MissedFirePolicy.Once => "once",
        MissedFirePolicy.All => "all",
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };

    /// <summary>Reads <c>skip</c> (also for null or empty), <c>once</c> or <c>all</c>; anything else throws <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static MissedFirePolicy Parse(string? text, string where = "missed") => text?.Trim() switch
    {
        null or "" or "skip" => MissedFirePolicy.Skip,
        "once" => MissedFirePolicy.Once,
        "all" => MissedFirePolicy.All,
        _ => throw new InvalidInputException(where, $"must be skip, once or all, got '{text}'"),
    };
}

/// <summary>
/// A recurring job: a cron expression in a time zone and the job each fire enqueues. The fields are those of
/// <c>gantry cron add</c>, of <c>POST /api/v1/schedules</c> and of <c>schedules</c> in gantry.json; <see cref="Validate"/>
/// holds every rule about them.
/// </summary>
public sealed partial record ScheduleDefinition
{
    /// <summary>The default <see cref="TimeZone"/>: <c>UTC</c>.</summary>
    public const string TimeZoneDefault = "UTC";
    /// <summary>The default <see cref="MaxCatchup"/>: 10.</summary>
    public const int MaxCatchupDefault = 10;
    /// <summary>The largest <see cref="MaxCatchup"/>: 1000.</summary>
    public const int MaxCatchupLimit = 1000;

    /// <summary>The tag naming the schedule on each job it makes.</summary>
    public const string ScheduleTag = "schedule";
    /// <summary>The tag on each job a schedule makes naming the fire time it stands for (ISO 8601, UTC).</summary>
    public const string FireTimeTag = "fire_time";

    /// <summary>The schedule's name, unique in the store; upserting a name replaces its schedule.</summary>
    public required string Name { get; init; }
    /// <summary>The cron expression: five fields (minute hour day month weekday), six with seconds first, or <c>@hourly</c>, <c>@daily</c>, <c>@weekly</c>, <c>@monthly</c>.</summary>
    public required string Cron { get; init; }
    /// <summary>The type of each job a fire enqueues.</summary>
    public required string Type { get; init; }
    /// <summary>The payload of each job, as JSON text.</summary>
    public string Payload { get; init; } = "{}";
    /// <summary>An IANA time zone id; the expression's local times are read in it.</summary>
    public string TimeZone { get; init; } = TimeZoneDefault;
    /// <summary>The queue of each job. Defaults to the default queue.</summary>
    public string Queue { get; init; } = NewJob.DefaultQueue;
    /// <summary>The priority of each job. Defaults to 0.</summary>
    public int Priority { get; init; }
    /// <summary>What fires missed while no server ran the schedule become. Defaults to <see cref="MissedFirePolicy.Skip"/>.</summary>
    public MissedFirePolicy Missed { get; init; } = MissedFirePolicy.Skip;
    /// <summary>With <see cref="MissedFirePolicy.All"/>, how many missed fires at most are made up. Defaults to 10.</summary>
    public int MaxCatchup { get; init; } = MaxCatchupDefault;
    /// <summary>How long one attempt of each job may run; null (the default) for no timeout.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Most attempts each job gets. Defaults to 5.</summary>
    public int MaxAttempts { get; init; } = NewJob.MaxAttemptsDefault;
    /// <summary>Tags on each job, beside <see cref="ScheduleTag"/> and <see cref="FireTimeTag"/>; none by default.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = NewJob.NoTags;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
    private static partial Regex NamePattern();

    /// <summary>Checks every field; returns the parsed expression. Throws <see cref="InvalidInputException"/> naming the field.</summary>
    public CronSchedule Validate(JobLimits limits, string where = "")
    {
        string At(string field) => string.IsNullOrEmpty(where) ? field : $"{where}.{field}";
        CheckName(Name, At("name"));
        var cron = CronSchedule.Parse(Cron, TimeZone, where);
        // The job rules are the job document's: one place.
        _ = Draft().Validate(limits, where);
        try
        {
            using var _ = JsonDocument.Parse(Payload);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException(At("payload"), $"is not valid JSON: {ex.Message}");
        }
        if (MaxCatchup is < 1 or > MaxCatchupLimit) throw new InvalidInputException(At("max_catchup"), $"must be between 1 and {MaxCatchupLimit}, got {MaxCatchup}");
        foreach (var reserved in new[] { ScheduleTag, FireTimeTag })
            if (Tags.ContainsKey(reserved)) throw new InvalidInputException(At("tags"), $"'{reserved}' is set by the schedule on each job it makes");
        return cron;
    }

    /// <summary>True when both describe the same schedule field for field (tags by content).</summary>
    public bool SameAs(ScheduleDefinition other) =>
        Name == other.Name && Cron == other.Cron && Type == other.Type && Payload == other.Payload && TimeZone == other.TimeZone
        && Queue == other.Queue && Priority == other.Priority && Missed == other.Missed && MaxCatchup == other.MaxCatchup
        && Timeout == other.Timeout && MaxAttempts == other.MaxAttempts
        && Tags.Count == other.Tags.Count && Tags.All(t => other.Tags.TryGetValue(t.Key, out var v) && v == t.Value);

    /// <summary>Checks a schedule's name (letters, digits and . _ : -; up to 200 characters).</summary>
    public static void CheckName(string? name, string where)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new InvalidInputException(where, "is required");
        if (name.Length > JobDraft.MaxNameLength) throw new InvalidInputException(where, $"is longer than {JobDraft.MaxNameLength} characters");
        if (!NamePattern().IsMatch(name))
            throw new InvalidInputException(where, $"'{name}' is not a valid schedule name (letters, digits and . _ : - ; starting with a letter or digit)");
    }

    private JobDraft Draft() => new()
    {
        Type = Type,
        Payload = Payload,
        Queue = Queue,
        Priority = Priority,
        TimeoutSeconds = Timeout?.TotalSeconds,
        MaxAttempts = MaxAttempts,
        Tags = Tags,
    };

    /// <summary>The job one fire makes: the schedule's job, tagged with the schedule's name and the fire time.</summary>
    public NewJob JobFor(DateTimeOffset fireTime, TimeProvider? time = null)
    {
        var tags = new Dictionary<string, string>(Tags, StringComparer.Ordinal)
        {
            [ScheduleTag] = Name,
            [FireTimeTag] = FireTimeText(fireTime),
        };
        return Draft().Validate(JobLimits.Default, "", time) with { Tags = tags };
    }

    /// <summary>A fire time as tagged: ISO 8601 in UTC, to the millisecond.</summary>
    public static string FireTimeText(DateTimeOffset fireTime) =>
        fireTime.UtcDateTime.ToString(fireTime.Millisecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
