using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Protocol;

namespace Gantry.Serialization;

/// <summary>
/// Strings (values and property names) read under <see cref="TextFields"/>' rule: one with a NUL
/// fails the read as malformed input, with the JSON path of the offending field.
/// </summary>
public sealed class TextFieldConverter : JsonConverter<string>
{
    /// <inheritdoc/>
    public override bool HandleNull => false;

    /// <inheritdoc/>
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Checked(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException($"expected a string, got {reader.TokenType}"));

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    /// <inheritdoc/>
    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Checked(reader.GetString()!);

    /// <inheritdoc/>
    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    private static string Checked(string value) => TextFields.HasNul(value) ? throw new JsonException(TextFields.NulProblem) : value;
}
