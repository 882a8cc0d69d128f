using System.Text.Json;

namespace Gantry.Serialization;

/// <summary>JSON settings for payloads, results and checkpoints: snake_case names, read case-insensitively.</summary>
public static class GantryPayloadJson
{
    /// <summary>Why a generic payload, result or checkpoint API needs reflection: the type is the app's.</summary>
    public const string ReflectionWarning =
        "Reads or writes the app's own type as JSON by reflection (GantryPayloadJson.Default). Under trimming or Native AOT, " +
        "use the overload that takes a JsonTypeInfo (System.Text.Json source generation), or give Default a TypeInfoResolver that knows the type.";

    /// <summary>The options: web defaults, snake_case names, read case-insensitively. Shared: do not change it after the first job runs.</summary>
    public static readonly JsonSerializerOptions Default = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
    };
}

/// <summary>JSON text to a <see cref="JsonElement"/> that outlives its document.</summary>
public static class JsonElements
{
    /// <summary>The element of <paramref name="json"/>; a null text gives JSON null.</summary>
    public static JsonElement Parse(string? json)
    {
        using var doc = JsonDocument.Parse(json ?? "null");
        return doc.RootElement.Clone();
    }

    /// <summary>A result map (JSON text by name) as elements; a missing value is JSON null.</summary>
    public static Dictionary<string, JsonElement> ParseAll(IReadOnlyDictionary<string, string?>? values) =>
        values?.ToDictionary(v => v.Key, v => Parse(v.Value), StringComparer.Ordinal) ?? new Dictionary<string, JsonElement>(StringComparer.Ordinal);
}
