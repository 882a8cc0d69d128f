using System.Globalization;
using System.Text.RegularExpressions;

namespace Gantry.Cli.Options;

/// <summary>Reads sizes the way people write them: <c>512KiB</c>, <c>2MiB</c>, <c>1MB</c>, or plain bytes.</summary>
internal static partial class Sizes
{
    [GeneratedRegex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>b|kb|kib|k|mb|mib|m|gb|gib|g)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        var m = Pattern().Match(text ?? "");
        if (!m.Success) return false;
        var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups["u"].Value.ToLowerInvariant() switch
        {
            "kb" => 1000d,
            "kib" or "k" => 1024d,
            "mb" => 1000d * 1000,
            "mib" or "m" => 1024d * 1024,
            "gb" => 1000d * 1000 * 1000,
            "gib" or "g" => 1024d * 1024 * 1024,
            _ => 1d,
        };
        bytes = (long)(n * unit);
        return true;
    }
}
