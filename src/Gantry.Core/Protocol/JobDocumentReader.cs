using System.Globalization;
using System.Text.Json;
using Gantry.Jobs;

namespace Gantry.Protocol;

/// <summary>
/// Reads job documents, protocol v1 (docs/job-protocol.md): one JSON object, a JSON array of
/// them, or JSON lines. Every error names where it is (<c>job.json line 3: priority: …</c>) and
/// nothing is returned unless every job is valid, so a batch is all or none.
/// </summary>
public static class JobDocumentReader
{
    /// <summary>The protocol version this reader reads: <c>"1"</c>.</summary>
    public const string Version = "1";

    /// <summary>The fields a v1 document may have.</summary>
    public static readonly IReadOnlyList<string> Fields =
    [
        "version", "type", "payload", "queue", "priority", "run_at", "timeout_seconds",
        "max_attempts", "backoff", "idempotency_key", "tags", "required_capabilities", "checkpoint_interval_seconds",
        "concurrency_key", "unique_for", "unique_while", "limits",
    ];

    /// <summary>Parses and validates every job in <paramref name="text"/>.</summary>
    /// <param name="source">Names the input in errors, e.g. a file name or "stdin".</param>
    public static IReadOnlyList<NewJob> ReadMany(string text, string source, JobLimits limits, TimeProvider? time = null)
    {
        var drafts = ReadDrafts(text, source, limits);
        if (drafts.Count == 0) throw new InvalidInputException(source, "holds no job document");
        if (drafts.Count > limits.MaxBatch)
            throw new InvalidInputException(source, $"holds {drafts.Count:N0} jobs, over the batch limit of {limits.MaxBatch:N0}");
        return drafts.Select(d => d.Draft.Validate(limits, d.Where, time)).ToArray();
    }

    /// <summary>Parses the documents without validating field values.</summary>
    public static IReadOnlyList<(JobDraft Draft, string Where)> ReadDrafts(string text, string source, JobLimits limits)
    {
        var options = new JsonDocumentOptions { MaxDepth = limits.MaxDepth, CommentHandling = JsonCommentHandling.Disallow };
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.IsEmpty) throw new InvalidInputException(source, "is empty");

        if (trimmed[0] == '[')
        {
            using var doc = Parse(text, source, options);
            var list = new List<(JobDraft, string)>();
            var i = 0;
            foreach (var element in doc.RootElement.EnumerateArray())
            {
                var where = $"{source}[{i++}]";
                list.Add((FromElement(element, where), where));
            }
            return list;
        }

        // One document, or JSON lines: try the whole text first.
        if (trimmed[0] == '{' && !LooksLikeJsonLines(text))
        {
            using var doc = Parse(text, source, options);
            return [(FromElement(doc.RootElement, source), source)];
        }

        var result = new List<(JobDraft, string)>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            var where = $"{source} line {lineNumber}";
            using var doc = Parse(line, where, options);
            result.Add((FromElement(doc.RootElement, where), where));
        }
        return result;
    }

    /// <summary>True when the text has more than one non-empty line, each starting with '{' and ending with '}'.</summary>
    private static bool LooksLikeJsonLines(string text)
    {
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return lines.Length > 1 && lines.All(l => l.StartsWith('{') && l.EndsWith('}'))
            && lines.All(l => { try { using var _ = JsonDocument.Parse(l); return true; } catch (JsonException) { return false; } });
    }

    /// <summary>Parses a document; a key given twice in one object is refused (the last one would silently win).</summary>
    internal static JsonDocument Parse(string text, string where, JsonDocumentOptions options)
    {
        options.AllowDuplicateProperties = false;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, options);
        }
        catch (JsonException ex)
        {
            var position = ex.LineNumber is { } line ? $" (line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1})" : "";
            throw new InvalidInputException(where, $"malformed JSON{position}: {FirstSentence(ex.Message)}");
        }
        catch (InvalidOperationException)
        {
            // Comparing property names for duplicates decodes them: a name that is not text fails there.
            throw new InvalidInputException(where, $"a property name {TextFields.SurrogateProblem}");
        }
        if (TextFields.LoneSurrogateAt(doc.RootElement) is { } at)
        {
            doc.Dispose();
            var field = where.Length == 0 ? at.TrimStart('.') : where + at;
            throw new InvalidInputException(field.Length == 0 ? "body" : field, TextFields.SurrogateProblem);
        }
        return doc;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    /// <summary>Reads one job object; unknown fields are rejected by name.</summary>
    /// <param name="skip">Fields the caller reads itself (a workflow step's <c>depends_on</c>): passed over here.</param>
    public static JobDraft FromElement(JsonElement element, string where, IReadOnlyCollection<string>? skip = null)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException(where, $"a job document must be a JSON object, got {Describe(element.ValueKind)}");

        var draft = new JobDraft();
        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value;
            var at = $"{where}.{property.Name}";
            // An optional field given as null is a field not given (as a generated client writes it).
            if (value.ValueKind == JsonValueKind.Null && property.Name is not ("type" or "version") && (Fields.Contains(property.Name) || skip?.Contains(property.Name) == true)) continue;
            switch (property.Name)
            {
                case "version":
                    var version = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Number => value.GetRawText(),
                        _ => null,
                    };
                    if (version != Version) throw new InvalidInputException(at, $"unsupported protocol version {value.GetRawText()} (this Gantry reads version \"{Version}\")");
                    break;
                case "type": draft = draft with { Type = String(value, at) }; break;
                case "payload": draft = draft with { Payload = value.ValueKind == JsonValueKind.Null ? "{}" : value.GetRawText() }; break;
                case "queue": draft = draft with { Queue = String(value, at) }; break;
                case "priority": draft = draft with { Priority = Int(value, at) }; break;
                case "run_at": draft = draft with { RunAt = Timestamp(value, at) }; break;
                case "timeout_seconds": draft = draft with { TimeoutSeconds = Number(value, at) }; break;
                case "max_attempts": draft = draft with { MaxAttempts = Int(value, at) }; break;
                case "idempotency_key": draft = draft with { IdempotencyKey = String(value, at) }; break;
                case "backoff": draft = Backoff(draft, value, at); break;
                case "tags": draft = draft with { Tags = Tags(value, at) }; break;
                case "required_capabilities": draft = draft with { RequiredCapabilities = Strings(value, at) }; break;
                case "checkpoint_interval_seconds": draft = draft with { CheckpointIntervalSeconds = Number(value, at) }; break;
                case "concurrency_key": draft = draft with { ConcurrencyKey = String(value, at) }; break;
                case "unique_for": draft = draft with { UniqueForSeconds = Number(value, at) }; break;
                case "unique_while": draft = draft with { UniqueWhile = Strings(value, at) }; break;
                case "limits": draft = draft with { Limits = Gantry.Jobs.ResourceLimits.Read(value, at) }; break;
                default:
                    if (skip?.Contains(property.Name) == true) break;
                    throw new InvalidInputException(where, $"unknown field '{property.Name}' (known fields: {string.Join(", ", skip is null ? Fields : Fields.Concat(skip))})", at);
            }
        }
        if (draft.Type is null) throw new InvalidInputException($"{where}.type", "is required (the job type names its handler)");
        return draft;
    }

    private static JobDraft Backoff(JobDraft draft, JsonElement value, string at)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidInputException(at, $"must be an object with base_seconds and max_seconds, got {Describe(value.ValueKind)}");
        foreach (var p in value.EnumerateObject())
        {
            draft = p.Name switch
            {
                "base_seconds" => draft with { BackoffBaseSeconds = Number(p.Value, $"{at}.base_seconds") },
                "max_seconds" => draft with { BackoffMaxSeconds = Number(p.Value, $"{at}.max_seconds") },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: base_seconds, max_seconds)"),
            };
        }
        return draft;
    }

    internal static string String(JsonElement value, string at) =>
        value.ValueKind == JsonValueKind.String ? TextFields.Check(value.GetString()!, at) : throw new InvalidInputException(at, $"expected a string, got {Describe(value.ValueKind)}");

    private static int Int(JsonElement value, string at) =>
        JsonWhole.TryRead(value, out var n, out _) ? n
            : throw new InvalidInputException(at, value.ValueKind == JsonValueKind.Number
                ? $"expected a whole number in 32-bit range, got {value.GetRawText()}"
                : $"expected an integer, got {Describe(value.ValueKind)}");

    private static double Number(JsonElement value, string at) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new InvalidInputException(at, $"expected a number, got {Describe(value.ValueKind)}");

    private static DateTimeOffset Timestamp(JsonElement value, string at)
    {
        var text = String(value, at);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new InvalidInputException(at, $"'{text}' is not an ISO 8601 timestamp (e.g. 2026-01-31T09:30:00Z)");
    }

    private static IReadOnlyDictionary<string, string> Tags(JsonElement value, string at)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidInputException(at, $"expected an object of string values, got {Describe(value.ValueKind)}");
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject()) tags[TextFields.Check(p.Name, at)] = String(p.Value, $"{at}.{p.Name}");
        return tags;
    }

    internal static IReadOnlyList<string> Strings(JsonElement value, string at)
    {
        if (value.ValueKind != JsonValueKind.Array) throw new InvalidInputException(at, $"expected an array of strings, got {Describe(value.ValueKind)}");
        var i = 0;
        return value.EnumerateArray().Select(e => String(e, $"{at}[{i++}]")).ToArray();
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
