using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gantry.Serialization;

/// <summary>Source-generated JSON for the small structures stores keep as JSON text (tags, lists, queue maps).</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, int>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Gantry.Storage.ManagedWorkerInfo[]))]
[JsonSourceGenerationOptions(WriteIndented = false)]
public sealed partial class CoreJsonContext : JsonSerializerContext;

/// <summary>Converts tag maps, string lists and queue maps to and from JSON text.</summary>
public static class CoreJson
{
    public static string? TagsToJson(IReadOnlyDictionary<string, string>? tags) =>
        tags is null || tags.Count == 0 ? null : JsonSerializer.Serialize(tags.ToDictionary(), CoreJsonContext.Default.DictionaryStringString);

    public static IReadOnlyDictionary<string, string> TagsFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, string>() : JsonSerializer.Deserialize(json, CoreJsonContext.Default.DictionaryStringString)!;

    public static string? ListToJson(IReadOnlyList<string>? list) =>
        list is null || list.Count == 0 ? null : JsonSerializer.Serialize(list.ToArray(), CoreJsonContext.Default.StringArray);

    public static IReadOnlyList<string> ListFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, CoreJsonContext.Default.StringArray)!;

    /// <summary>A node's managed workers (null and empty are the same: none).</summary>
    public static string? ManagedToJson(IReadOnlyList<Gantry.Storage.ManagedWorkerInfo>? managed) =>
        managed is null || managed.Count == 0 ? null : JsonSerializer.Serialize(managed.ToArray(), CoreJsonContext.Default.ManagedWorkerInfoArray);

    public static IReadOnlyList<Gantry.Storage.ManagedWorkerInfo> ManagedFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, CoreJsonContext.Default.ManagedWorkerInfoArray)!;

    public static string QueuesToJson(IReadOnlyDictionary<string, int> queues) =>
        JsonSerializer.Serialize(queues.ToDictionary(), CoreJsonContext.Default.DictionaryStringInt32);

    public static IReadOnlyDictionary<string, int> QueuesFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, int>() : JsonSerializer.Deserialize(json, CoreJsonContext.Default.DictionaryStringInt32)!;
}
