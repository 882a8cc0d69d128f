using Gantry.Jobs;

namespace Gantry.Core.Tests.Jobs;

public sealed class BackoffTests
{
    /// <summary>A random source that always returns the same double, to pin the jitter.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    private static readonly Backoff OneSecond = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

    [Fact]
    public void DelayAfter_SuccessiveFailures_GrowsExponentially()
    {
        var top = new FixedRandom(1.0);

        Assert.Equal(TimeSpan.FromSeconds(1), OneSecond.DelayAfter(1, top));
        Assert.Equal(TimeSpan.FromSeconds(2), OneSecond.DelayAfter(2, top));
        Assert.Equal(TimeSpan.FromSeconds(4), OneSecond.DelayAfter(3, top));
        Assert.Equal(TimeSpan.FromSeconds(32), OneSecond.DelayAfter(6, top));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(30)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void DelayAfter_ManyFailures_CappedAtMax(int failedAttempt)
    {
        Assert.Equal(TimeSpan.FromMinutes(1), OneSecond.DelayAfter(failedAttempt, new FixedRandom(1.0)));
        Assert.Equal(TimeSpan.FromSeconds(30), OneSecond.DelayAfter(failedAttempt, new FixedRandom(0.0)));
    }

    [Fact]
    public void DelayAfter_Jitter_StaysInUpperHalfOfCeiling()
    {
        var random = new Random(42);
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            var ceiling = Math.Min(60_000, 1000 * Math.Pow(2, attempt - 1));
            var seen = new HashSet<double>();
            for (var i = 0; i < 200; i++)
            {
                var ms = OneSecond.DelayAfter(attempt, random).TotalMilliseconds;
                Assert.InRange(ms, 0.5 * ceiling, ceiling);
                seen.Add(ms);
            }
            Assert.True(seen.Count > 100, "jitter should spread the delays");
        }
    }

    [Fact]
    public void DelayAfter_ZeroBase_Zero() =>
        Assert.Equal(TimeSpan.Zero, new Backoff(TimeSpan.Zero, TimeSpan.Zero).DelayAfter(3, new Random(1)));

    [Fact]
    public void Default_BaseAndMax_AreTheDocumentedDefaults()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), Backoff.Default.Base);
        Assert.Equal(TimeSpan.FromHours(1), Backoff.Default.Max);
    }
}
