using System.Text.Json;
using Gantry.Protocol;

namespace Gantry.Flow;

/// <summary>
/// A queue's limits as JSON: <c>{"concurrency": 10, "per_key": 2, "rate": "100/s", "rate_per_key": "5/s"}</c>, each
/// optional (at least one).
/// The body of <c>PUT /api/v1/queues/{name}/limits</c>; every error names its field.
/// </summary>
public static class QueueLimitsDocument
{
    /// <summary>The fields a limits document may hold.</summary>
    public static readonly IReadOnlyList<string> Fields = ["concurrency", "per_key", "rate", "rate_per_key"];

    /// <summary>Reads and validates a limits document; throws <see cref="InvalidInputException"/> naming the field (or <c>body</c> for text that is not JSON).</summary>
    public static QueueLimits Read(string text)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException("body", $"is not JSON: {ex.Message.Split('.')[0]}");
        }
        using (doc) return Read(doc.RootElement, at: null);
    }

    /// <summary>Reads limits from <paramref name="e"/>. Errors name their field as <c>{at}.{field}</c> (gantry.json's
    /// <c>limits.{queue}</c>), or as the bare field when <paramref name="at"/> is null (the API body).</summary>
    public static QueueLimits Read(JsonElement e, string? at)
    {
        string Field(string name) => at is null ? name : $"{at}.{name}";
        if (e.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException(at ?? "body", "must be an object with concurrency, per_key, rate and/or rate_per_key");
        if (TextFields.LoneSurrogateAt(e) is { } bad)
            throw new InvalidInputException(bad.Length == 0 ? at ?? "body" : at is null ? bad.TrimStart('.') : at + bad, TextFields.SurrogateProblem);
        var limits = new QueueLimits();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            // Taken last-wins, a field given twice would set one of two limits without saying which.
            if (!seen.Add(p.Name)) throw new InvalidInputException(Fields.Contains(p.Name) ? Field(p.Name) : at ?? "body", $"'{p.Name}' is given more than once", p.Name);
            if (p.Value.ValueKind == JsonValueKind.Null && Fields.Contains(p.Name)) continue;
            limits = p.Name switch
            {
                "concurrency" => limits with { Concurrency = Int(p.Value, Field("concurrency")) },
                "per_key" => limits with { PerKey = Int(p.Value, Field("per_key")) },
                "rate" => limits with { Rate = Rate(p.Value, Field("rate")) },
                "rate_per_key" => limits with { RatePerKey = Rate(p.Value, Field("rate_per_key")) },
                _ => throw new InvalidInputException(at ?? "body", $"unknown field '{p.Name}' (known fields: {string.Join(", ", Fields)})", p.Name),
            };
        }
        try
        {
            return limits.Validated();
        }
        catch (InvalidInputException ex) when (at is not null)
        {
            throw new InvalidInputException(ex.Where == "limits" ? at : Field(ex.Where), ex.Problem);
        }
    }

    /// <summary>The document for <paramref name="limits"/> as UTF-8 JSON, with only the limits that are set; <see cref="Read(string)"/> reads it back.</summary>
    public static byte[] Write(QueueLimits limits)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            if (limits.Concurrency is { } c) w.WriteNumber("concurrency", c);
            if (limits.PerKey is { } k) w.WriteNumber("per_key", k);
            if (limits.Rate is { } r) w.WriteString("rate", r.ToString());
            if (limits.RatePerKey is { } kr) w.WriteString("rate_per_key", kr.ToString());
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static QueueRate Rate(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String
            ? QueueRate.Parse(value.GetString(), field)
            : throw new InvalidInputException(field, "must be a string such as \"100/s\", \"600/m\" or \"1000/h\"");

    // A whole number beyond int's range is out of the limits' range, not malformed.
    private static int Int(JsonElement value, string field) =>
        JsonWhole.TryRead(value, out var n, out var beyondRange) ? n
            : throw new InvalidInputException(field, beyondRange
                ? $"must be between 1 and {QueueLimits.MaxLimit:N0}, got {value.GetRawText()}"
                : $"must be a whole number, got {value.GetRawText()}");
}
