using System.Text.Json;

namespace Gantry.Protocol;

/// <summary>Whole numbers in the documents Gantry reads: any JSON spelling of one (1000, 1e3, 1000.0) is that number.</summary>
public static class JsonWhole
{
    /// <summary>
    /// Reads <paramref name="e"/> as a whole number of <see cref="int"/>'s range. False when it is not a number, not whole,
    /// or beyond that range; <paramref name="beyondRange"/> tells the last apart, so that the error can say "out of range"
    /// rather than "not a whole number".
    /// </summary>
    public static bool TryRead(JsonElement e, out int n, out bool beyondRange)
    {
        n = 0;
        beyondRange = false;
        if (e.ValueKind != JsonValueKind.Number) return false;
        if (e.TryGetInt32(out n)) return true;
        if (!e.TryGetDecimal(out var d) || decimal.Truncate(d) != d) return false;
        if (d is < int.MinValue or > int.MaxValue)
        {
            beyondRange = true;
            return false;
        }
        n = (int)d;
        return true;
    }
}
