using System.Text.Json;
using Gantry.Jobs;

namespace Gantry.Scheduling;

/// <summary>
/// Reads a schedule written as JSON: the body of <c>POST /api/v1/schedules</c> and each entry of <c>schedules</c> in
/// gantry.json. The keys are the flags of <c>gantry cron add</c>: <c>name</c>, <c>cron</c>, <c>type</c>, <c>payload</c>,
/// <c>tz</c>, <c>queue</c>, <c>priority</c>, <c>missed</c>, <c>max_catchup</c>, <c>timeout_seconds</c>, <c>max_attempts</c>,
/// <c>tags</c>. Read strictly: an unknown key is refused by name. Only the shape is checked here;
/// <see cref="ScheduleDefinition.Validate"/> checks the values.
/// </summary>
public static class ScheduleDocument
{
    /// <summary>The keys a schedule document may hold, for error messages.</summary>
    public const string Keys = "name, cron, type, payload, tz, queue, priority, missed, max_catchup, timeout_seconds, max_attempts, tags";

    /// <summary>Parses a schedule document from text (the body of <c>POST /api/v1/schedules</c>), as strictly as a job document.</summary>
    public static ScheduleDefinition Read(string text, string where, Gantry.Protocol.JobLimits limits)
    {
        if (text.AsSpan().Trim().IsEmpty) throw new InvalidInputException(string.IsNullOrEmpty(where) ? "body" : where, "is empty: send a schedule document");
        using var doc = Gantry.Protocol.JobDocumentReader.Parse(text, string.IsNullOrEmpty(where) ? "body" : where, new JsonDocumentOptions { MaxDepth = limits.MaxDepth });
        if (Gantry.Protocol.TextFields.LoneSurrogateAt(doc.RootElement) is { } at)
            throw new InvalidInputException(string.IsNullOrEmpty(where) ? (at.Length == 0 ? "body" : at.TrimStart('.')) : where + at, Gantry.Protocol.TextFields.SurrogateProblem);
        return Read(doc.RootElement, where);
    }

    /// <param name="name">The name when the document is keyed by it (gantry.json); a <c>name</c> key is then refused.</param>
    public static ScheduleDefinition Read(JsonElement e, string where, string? name = null)
    {
        string At(string field) => string.IsNullOrEmpty(where) ? field : $"{where}.{field}";
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidInputException(where, "expected an object");
        string? cron = null, type = null, payload = null, tz = null, queue = null, missed = null;
        int? priority = null, maxCatchup = null, maxAttempts = null;
        double? timeout = null;
        Dictionary<string, string>? tags = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            var at = At(p.Name);
            if (!seen.Add(p.Name)) throw new InvalidInputException(at, "is given more than once");
            switch (p.Name)
            {
                case "name" when name is null: name = Text(p.Value, at); break;
                case "cron": cron = Text(p.Value, at); break;
                case "type": type = Text(p.Value, at); break;
                case "payload": payload = p.Value.GetRawText(); break;
                case "tz": tz = Text(p.Value, at); break;
                case "queue": queue = Text(p.Value, at); break;
                case "missed": missed = Text(p.Value, at); break;
                case "priority": priority = Whole(p.Value, at); break;
                case "max_catchup": maxCatchup = Whole(p.Value, at); break;
                case "max_attempts": maxAttempts = Whole(p.Value, at); break;
                case "timeout_seconds":
                    timeout = p.Value.ValueKind == JsonValueKind.Number && p.Value.GetDouble() > 0 ? p.Value.GetDouble()
                        : throw new InvalidInputException(at, "expected a positive number of seconds");
                    break;
                case "tags":
                    if (p.Value.ValueKind != JsonValueKind.Object) throw new InvalidInputException(at, "expected an object of strings");
                    tags = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var tag in p.Value.EnumerateObject()) tags[tag.Name] = Text(tag.Value, $"{at}.{tag.Name}");
                    break;
                default:
                    throw new InvalidInputException(at, $"unknown field (known fields: {(name is null ? Keys : Keys["name, ".Length..])})", p.Name);
            }
        }
        if (string.IsNullOrEmpty(name)) throw new InvalidInputException(At("name"), "is required");
        if (cron is null) throw new InvalidInputException(At("cron"), "is required (five fields, six with seconds, or @hourly, @daily, @weekly, @monthly)");
        if (type is null) throw new InvalidInputException(At("type"), "is required (the job type each fire enqueues)");
        return new ScheduleDefinition
        {
            Name = name,
            Cron = cron,
            Type = type,
            Payload = payload ?? "{}",
            TimeZone = tz ?? ScheduleDefinition.TimeZoneDefault,
            Queue = queue ?? NewJob.DefaultQueue,
            Priority = priority ?? 0,
            Missed = MissedFirePolicies.Parse(missed, At("missed")),
            MaxCatchup = maxCatchup ?? ScheduleDefinition.MaxCatchupDefault,
            Timeout = timeout is { } t ? TimeSpan.FromSeconds(t) : null,
            MaxAttempts = maxAttempts ?? NewJob.MaxAttemptsDefault,
            Tags = tags ?? NewJob.NoTags,
        };
    }

    /// <summary>The document of <paramref name="d"/>, as <c>Read</c> takes it (fields at their defaults left out).</summary>
    public static byte[] Write(ScheduleDefinition d)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("name", d.Name);
            w.WriteString("cron", d.Cron);
            w.WriteString("type", d.Type);
            w.WritePropertyName("payload");
            using (var payload = JsonDocument.Parse(d.Payload)) payload.RootElement.WriteTo(w);
            w.WriteString("tz", d.TimeZone);
            w.WriteString("queue", d.Queue);
            w.WriteNumber("priority", d.Priority);
            w.WriteString("missed", d.Missed.ToText());
            w.WriteNumber("max_catchup", d.MaxCatchup);
            if (d.Timeout is { } t) w.WriteNumber("timeout_seconds", t.TotalSeconds);
            w.WriteNumber("max_attempts", d.MaxAttempts);
            if (d.Tags.Count > 0)
            {
                w.WriteStartObject("tags");
                foreach (var (k, v) in d.Tags) w.WriteString(k, v);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string Text(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.String ? Gantry.Protocol.TextFields.Check(e.GetString()!, at) : throw new InvalidInputException(at, "expected a string");

    private static int Whole(JsonElement e, string at) =>
        Gantry.Protocol.JsonWhole.TryRead(e, out var n, out _) ? n : throw new InvalidInputException(at, "expected a whole number");
}
