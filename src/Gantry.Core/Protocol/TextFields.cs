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

    /// <summary>
    /// <paramref name="value"/> with each NUL and each lone UTF-16 surrogate replaced by U+FFFD: text a handler produced
    /// (a progress message, a log line, an error, a result), which is kept rather than refused, so it must become text
    /// every store and link can hold (PostgreSQL's text holds no NUL, and no store or API encodes half a surrogate pair).
    /// The same instance when there is nothing to replace; null for null.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    public static string? Storable(string? value)
    {
        if (value is null || FirstUnstorable(value) < 0) return value;
        return string.Create(value.Length, value, static (chars, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    chars[i] = c;
                    chars[++i] = text[i];
                }
                else chars[i] = c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c;
            }
        });
    }

    // The index of the first NUL or lone surrogate; -1 for none. Text without either (nearly all) is one vectorised pass.
    private static int FirstUnstorable(string text)
    {
        var span = text.AsSpan();
        var nul = span.IndexOf('\0');
        var surrogate = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (surrogate < 0) return nul;
        for (var i = surrogate; i < span.Length && (nul < 0 || i < nul); i++)
        {
            if (!char.IsSurrogate(span[i])) continue;
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1])) i++;
            else return i;
        }
        return nul;
    }

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
