using System.Text.Json;

namespace Gantry.Serialization;

/// <summary>JSON settings for payloads, results and checkpoints: snake_case names, read case-insensitively.</summary>
public static class GantryPayloadJson
{
    public static readonly JsonSerializerOptions Default = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
    };
}
