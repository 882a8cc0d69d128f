namespace Gantry.Bench;

/// <summary>The order statistics the benchmarks report, computed one way for all of them.</summary>
internal static class BenchStats
{
    /// <summary>The middle value (the upper one of an even count): a round that ran, not an average of two.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0–1) of <paramref name="sorted"/>, ascending; 0 when empty.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary><see cref="Percentile"/> of values in any order.</summary>
    public static double PercentileOf(IEnumerable<double> values, double p) => Percentile([.. values.Order()], p);
}
