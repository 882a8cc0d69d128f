namespace Gantry.Jobs;

/// <summary>
/// Exponential backoff with jitter between attempts: the n-th retry waits about
/// <c>Base × 2^(n-1)</c>, capped at <c>Max</c>, drawn from the upper half of that interval so
/// that jobs failing together do not return together.
/// </summary>
public sealed record Backoff(TimeSpan Base, TimeSpan Max)
{
    /// <summary>The default <see cref="Base"/>: 1 second.</summary>
    public static readonly TimeSpan BaseDefault = TimeSpan.FromSeconds(1);
    /// <summary>The default <see cref="Max"/>: 1 hour.</summary>
    public static readonly TimeSpan MaxDefault = TimeSpan.FromHours(1);
    /// <summary>The default backoff: 1 second, doubling up to 1 hour.</summary>
    public static readonly Backoff Default = new(BaseDefault, MaxDefault);

    /// <summary>A backoff read back from a store: <see cref="Default"/> itself when it is the default, so that claiming
    /// jobs that keep it allocates nothing for it.</summary>
    public static Backoff Of(TimeSpan @base, TimeSpan max) => @base == BaseDefault && max == MaxDefault ? Default : new(@base, max);

    /// <summary>The delay before the attempt after <paramref name="failedAttempt"/> (1-based).</summary>
    public TimeSpan DelayAfter(int failedAttempt, Random random)
    {
        var exponent = Math.Clamp(failedAttempt - 1, 0, 62);
        var ceiling = Math.Min(Max.TotalMilliseconds, Base.TotalMilliseconds * Math.Pow(2, exponent));
        var jittered = ceiling * (0.5 + random.NextDouble() * 0.5);
        return TimeSpan.FromMilliseconds(Math.Max(0, jittered));
    }
}
