using Cronos;

namespace Gantry.Scheduling;

/// <summary>
/// A parsed cron expression in a time zone: five fields (minute precision), six with seconds first, or a macro
/// (<c>@hourly</c>, <c>@daily</c>, <c>@weekly</c>, <c>@monthly</c>, <c>@yearly</c>). Parsing and occurrences are
/// Cronos's. Daylight saving: a local time that does not exist (clocks jump forward) fires at the moment of the
/// jump; one that exists twice (clocks fall back) fires once, at its first instance — except for expressions
/// that fire every hour or more often, which fire in both (the hours are distinct instants).
/// </summary>
public sealed class CronSchedule
{
    private readonly CronExpression _expression;

    /// <summary>The expression as given.</summary>
    public string Expression { get; }
    /// <summary>The time zone the expression's local times are read in.</summary>
    public TimeZoneInfo Zone { get; }

    private CronSchedule(string expression, CronExpression parsed, TimeZoneInfo zone)
    {
        Expression = expression;
        _expression = parsed;
        Zone = zone;
    }

    /// <summary>Parses <paramref name="expression"/> in the IANA (or system) zone <paramref name="timeZone"/>; throws
    /// <see cref="InvalidInputException"/> naming the cron field or the zone.</summary>
    public static CronSchedule Parse(string expression, string timeZone, string where = "")
    {
        string At(string field) => string.IsNullOrEmpty(where) ? field : $"{where}.{field}";
        var text = expression?.Trim() ?? "";
        if (text.Length == 0) throw new InvalidInputException(At("cron"), "is required (five fields, six with seconds, or @hourly, @daily, @weekly, @monthly)");
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        CronExpression parsed;
        try
        {
            parsed = text.StartsWith('@') ? CronExpression.Parse(text)
                : fields.Length switch
                {
                    5 => CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard),
                    6 => CronExpression.Parse(string.Join(' ', fields), CronFormat.IncludeSeconds),
                    _ => throw new InvalidInputException(At("cron"), $"'{text}' has {fields.Length} field{(fields.Length == 1 ? "" : "s")}; a cron expression has five (minute hour day month weekday), six with seconds first, or is @hourly, @daily, @weekly, @monthly"),
                };
        }
        catch (CronFormatException ex)
        {
            throw new InvalidInputException(At("cron"), $"'{text}' is not a valid cron expression: {ex.Message.Replace("The given cron expression has an invalid format. ", "", StringComparison.Ordinal).TrimEnd('.')}");
        }
        return new CronSchedule(text, parsed, FindZone(timeZone, At("tz")));
    }

    /// <summary>A zone from the system's time zone database by IANA id (<c>Europe/Berlin</c>, <c>UTC</c>).</summary>
    public static TimeZoneInfo FindZone(string? id, string where)
    {
        var name = string.IsNullOrWhiteSpace(id) ? ScheduleDefinition.TimeZoneDefault : id.Trim();
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new InvalidInputException(where, $"unknown time zone '{name}' (an IANA name such as Europe/Berlin, America/New_York or UTC)");
        }
    }

    /// <summary>The first fire time strictly after <paramref name="after"/>; null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        _expression.GetNextOccurrence(after.UtcDateTime, Zone, inclusive: false) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;

    /// <summary>The next <paramref name="count"/> fire times after <paramref name="after"/>.</summary>
    public IReadOnlyList<DateTimeOffset> NextMany(DateTimeOffset after, int count)
    {
        var list = new List<DateTimeOffset>(count);
        var at = after;
        while (list.Count < count && Next(at) is { } next)
        {
            list.Add(next);
            at = next;
        }
        return list;
    }

    /// <summary>
    /// The last <paramref name="count"/> fire times in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first.
    /// Looks back from <paramref name="upTo"/> in growing windows, so a long gap of a frequent schedule (a year of
    /// every-second fires) is not walked from its start.
    /// </summary>
    public IReadOnlyList<DateTimeOffset> LastMany(DateTimeOffset after, DateTimeOffset upTo, int count)
    {
        if (count <= 0 || upTo <= after) return [];
        var window = TimeSpan.FromMinutes(1);
        while (true)
        {
            var from = upTo - window;
            var exhausted = from <= after;
            if (exhausted) from = after;
            var found = new List<DateTimeOffset>();
            var at = from;
            while (Next(at) is { } next && next <= upTo)
            {
                found.Add(next);
                at = next;
                // Keep only the tail while walking a window larger than needed.
                if (found.Count > count * 4) found.RemoveRange(0, found.Count - count);
            }
            if (found.Count >= count || exhausted)
                return found.Count > count ? found.GetRange(found.Count - count, count) : found;
            window = window > TimeSpan.FromDays(3650) ? TimeSpan.MaxValue / 4 : window * 8;
            if (upTo - after <= window) window = upTo - after;
        }
    }
}
