using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gantry.Serialization;

/// <summary>
/// A JSON value carried as its text: written into the surrounding document as is, read back as the
/// text of the value. Payloads and results pass through the worker protocol this way without being
/// parsed into a document and copied on every hop (they were validated when they entered Gantry).
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly record struct RawJson(string Text)
{
    /// <summary>The JSON text.</summary>
    public override string ToString() => Text;
}

/// <summary>Reads any JSON value as its text (refusing a lone surrogate escape) and writes the text back as it is.</summary>
public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    /// <inheritdoc/>
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        // Kept as text and decoded later (by a handler, in an answer of the API): it must be Unicode text now.
        if (Protocol.TextFields.LoneSurrogateAt(doc.RootElement) is { } at) throw new JsonException($"{at.TrimStart('.')}: {Protocol.TextFields.SurrogateProblem}".TrimStart(':', ' '));
        return new RawJson(doc.RootElement.GetRawText());
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}
