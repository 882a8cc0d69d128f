using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gantry.Serialization;

/// <summary>
/// Reads a whole number as the job and limits documents read theirs (<see cref="Protocol.JsonWhole"/>): any JSON spelling of
/// one (<c>1000</c>, <c>1e3</c>, <c>1000.0</c>), where the serializer alone takes only the first; writes it plainly.
/// </summary>
public sealed class WholeNumberConverter : JsonConverter<int>
{
    /// <inheritdoc/>
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var value = JsonDocument.ParseValue(ref reader);
        if (Protocol.JsonWhole.TryRead(value.RootElement, out var n, out var beyondRange)) return n;
        throw new JsonException(beyondRange ? $"is out of range (at most {int.MaxValue})" : "expected a whole number");
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
