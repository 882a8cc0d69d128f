using Gantry.Jobs;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gantry.Storage;

/// <summary>Source-generated JSON for the small structures stores keep as JSON text (tags, lists, queue maps).</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, int>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(ManagedWorkerInfo[]))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class StoreJsonContext : JsonSerializerContext;

/// <summary>Converts tag maps, string lists and queue maps to and from JSON text, and a uniqueness window's states to their stored text.</summary>
internal static class StoreJson
{
    public static string? TagsToJson(IReadOnlyDictionary<string, string>? tags) =>
        tags is null || tags.Count == 0 ? null : JsonSerializer.Serialize(tags.ToDictionary(), StoreJsonContext.Default.DictionaryStringString);

    public static IReadOnlyDictionary<string, string> TagsFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, string>() : JsonSerializer.Deserialize(json, StoreJsonContext.Default.DictionaryStringString)!;

    public static string? ListToJson(IReadOnlyList<string>? list) =>
        list is null || list.Count == 0 ? null : JsonSerializer.Serialize(list.ToArray(), StoreJsonContext.Default.StringArray);

    public static IReadOnlyList<string> ListFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, StoreJsonContext.Default.StringArray)!;

    /// <summary>A node's managed workers (null and empty are the same: none).</summary>
    public static string? ManagedToJson(IReadOnlyList<ManagedWorkerInfo>? managed) =>
        managed is null || managed.Count == 0 ? null : JsonSerializer.Serialize(managed.ToArray(), StoreJsonContext.Default.ManagedWorkerInfoArray);

    public static IReadOnlyList<ManagedWorkerInfo> ManagedFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, StoreJsonContext.Default.ManagedWorkerInfoArray)!;

    public static string QueuesToJson(IReadOnlyDictionary<string, int> queues) =>
        JsonSerializer.Serialize(queues.ToDictionary(), StoreJsonContext.Default.DictionaryStringInt32);

    public static IReadOnlyDictionary<string, int> QueuesFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, int>() : JsonSerializer.Deserialize(json, StoreJsonContext.Default.DictionaryStringInt32)!;

    /// <summary>The states of a uniqueness window as stored: comma-separated; null for every state.</summary>
    public static string? UniqueWhileToText(IReadOnlyList<JobState>? states) =>
        states is null ? null : string.Join(",", states.Select(s => s.ToText()));

    /// <summary>The states <see cref="UniqueWhileToText"/> wrote; null for null.</summary>
    public static IReadOnlyList<JobState>? UniqueWhileFromText(string? text) =>
        text is null ? null : text.Split(',').Select(JobStates.Parse).ToArray();
}
