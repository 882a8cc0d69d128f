using System.Text.Json;

namespace Gantry.Protocol;

/// <summary>
/// The rule for every text field a client sends (idempotency key, tag, worker id, message, log line…):
/// no NUL character. PostgreSQL's text cannot hold one and SQLite would keep it, so both stores
/// refuse it the same way, as bad input, before the store is reached.
/// </summary>
public static class TextFields
{
    /// <summary>The problem an <see cref="InvalidInputException"/> names for a text holding a NUL.</summary>
    public const string NulProblem = "holds a NUL character (\\u0000), which no text field may hold";

    /// <summary>True when <paramref name="value"/> holds a NUL character; false for null.</summary>
    public static bool HasNul(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal);

    /// <summary>Returns <paramref name="value"/>; throws <see cref="InvalidInputException"/> naming <paramref name="where"/> if it holds a NUL.</summary>
    public static string Check(string value, string where) => HasNul(value) ? throw new InvalidInputException(where, NulProblem) : value;

    /// <summary>The problem an <see cref="InvalidInputException"/> names for JSON text escaping a lone surrogate.</summary>
    public const string SurrogateProblem = "holds a lone UTF-16 surrogate escape (such as \\ud800), which is not Unicode text";

    /// <summary>
    /// Where in <paramref name="element"/> a string or property name escapes a lone UTF-16 surrogate (<c>"\ud800"</c>):
    /// valid JSON syntax, but not text, and it fails whatever later decodes it (a handler, an answer of the API), so
    /// it is refused when it comes in. The path is relative (<c>.a[2]</c>); null when every string is Unicode text.
    /// </summary>
    public static string? LoneSurrogateAt(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Decodes(element.GetString) ? null : "";
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (LoneSurrogateAt(item) is { } at) return $"[{i}]{at}";
                    i++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!Decodes(() => property.Name)) return "";
                    if (LoneSurrogateAt(property.Value) is { } at) return $".{property.Name}{at}";
                }
                return null;
            default:
                return null;
        }
    }

    private static bool Decodes(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
