using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gantry.Serialization;

/// <summary>Source-generated JSON for the values Core reads and writes itself: a checkpoint given as a
/// <see cref="JsonElement"/>, and a handler's payload read as one.</summary>
[JsonSerializable(typeof(JsonElement))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class CoreJsonContext : JsonSerializerContext;
