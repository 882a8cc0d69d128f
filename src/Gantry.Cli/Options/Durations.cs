using System.Globalization;
using System.Text.RegularExpressions;

namespace Gantry.Cli.Options;

/// <summary>Reads durations the way people write them: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>7d</c>, or plain seconds.</summary>
internal static partial class Durations
{
    [GeneratedRegex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>ms|s|m|h|d)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        var m = Pattern().Match(text ?? "");
        if (!m.Success) return false;
        var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        value = m.Groups["u"].Value.ToLowerInvariant() switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromSeconds(n),
        };
        return true;
    }

    public static string Format(TimeSpan t) =>
        t.TotalMilliseconds < 1000 ? $"{t.TotalMilliseconds:0.#}ms"
        : t.TotalSeconds < 120 ? $"{t.TotalSeconds:0.#}s"
        : t.TotalMinutes < 120 ? $"{t.TotalMinutes:0.#}m"
        : t.TotalHours < 48 ? $"{t.TotalHours:0.#}h"
        : $"{t.TotalDays:0.#}d";
}
