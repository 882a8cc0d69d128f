using System.Globalization;
using System.Text.RegularExpressions;

namespace Gantry.Hosting;

/// <summary>
/// Reads durations the way people write them: <c>500ms</c>, <c>30s</c>, <c>1m30s</c>, <c>2h</c>, <c>7d</c>, plain
/// seconds, or ISO 8601 (<c>PT30S</c>); and writes them in the same short form, so that what help prints parses back.
/// </summary>
public static partial class Durations
{
    /// <summary>One or more number-unit parts, largest unit first (<c>1h30m</c>, <c>1m0.5s</c>), or a plain number of seconds.</summary>
    [GeneratedRegex(@"^(?:(?<n>\d+(?:\.\d+)?)(?<u>ms|d|h|m|s))+$|^(?<plain>\d+(?:\.\d+)?)$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    private static readonly string[] Order = ["d", "h", "m", "s", "ms"];

    /// <summary>Reads <paramref name="text"/> in any of the forms above; false when it is none of them.</summary>
    public static bool TryParse(string? text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>As <see cref="TryParse(string?, out TimeSpan)"/>; <paramref name="tooLong"/> tells a duration written
    /// correctly but longer than a <see cref="TimeSpan"/> holds (about 29,000 years) from text that is no duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out bool tooLong)
    {
        value = default;
        tooLong = false;
        var trimmed = (text ?? "").Trim();
        if (trimmed.StartsWith('P') || trimmed.StartsWith('p')) return TryParseIso(trimmed, out value, out tooLong);
        var m = Pattern().Match(trimmed);
        if (!m.Success) return false;
        try
        {
            if (m.Groups["plain"].Success)
            {
                value = TimeSpan.FromSeconds(Number(m.Groups["plain"].Value));
                return true;
            }
            var last = -1;
            var total = TimeSpan.Zero;
            for (var i = 0; i < m.Groups["u"].Captures.Count; i++)
            {
                var unit = m.Groups["u"].Captures[i].Value.ToLowerInvariant();
                var rank = Array.IndexOf(Order, unit);
                if (rank <= last) return false; // 30s1m, 1s1s: each unit once, largest first.
                last = rank;
                var n = Number(m.Groups["n"].Captures[i].Value);
                total += unit switch
                {
                    "ms" => TimeSpan.FromMilliseconds(n),
                    "s" => TimeSpan.FromSeconds(n),
                    "m" => TimeSpan.FromMinutes(n),
                    "h" => TimeSpan.FromHours(n),
                    _ => TimeSpan.FromDays(n),
                };
            }
            value = total;
            return true;
        }
        catch (OverflowException)
        {
            tooLong = true;
            return false;
        }
    }

    private static double Number(string text) => double.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static bool TryParseIso(string text, out TimeSpan value, out bool tooLong)
    {
        value = default;
        tooLong = false;
        try
        {
            value = System.Xml.XmlConvert.ToTimeSpan(text.ToUpperInvariant());
            return value >= TimeSpan.Zero;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            tooLong = ex is OverflowException;
            return false;
        }
    }

    /// <summary>The short form: <c>0s</c>, <c>200ms</c>, <c>30s</c>, <c>1m30s</c>, <c>7d</c>; <see cref="TryParse(string?, out TimeSpan)"/> reads it back exactly (to the millisecond).</summary>
    public static string Format(TimeSpan t)
    {
        if (t < TimeSpan.Zero) return "-" + Format(t.Negate());
        if (t == TimeSpan.Zero) return "0s";
        var parts = new List<string>();
        if (t.Days > 0) parts.Add($"{t.Days}d");
        if (t.Hours > 0) parts.Add($"{t.Hours}h");
        if (t.Minutes > 0) parts.Add($"{t.Minutes}m");
        if (t.Seconds > 0) parts.Add($"{t.Seconds}s");
        var ms = t.TotalMilliseconds - Math.Floor(t.TotalSeconds) * 1000;
        if (ms > 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{ms:0.###}ms"));
        return string.Concat(parts);
    }

    /// <summary>An age for a table, to one decimal of its largest unit: <c>3.2s</c>, <c>4.5m</c>.</summary>
    public static string Rough(TimeSpan t) =>
        t.TotalMilliseconds < 1000 ? $"{t.TotalMilliseconds:0.#}ms"
        : t.TotalSeconds < 120 ? $"{t.TotalSeconds:0.#}s"
        : t.TotalMinutes < 120 ? $"{t.TotalMinutes:0.#}m"
        : t.TotalHours < 48 ? $"{t.TotalHours:0.#}h"
        : $"{t.TotalDays:0.#}d";
}
