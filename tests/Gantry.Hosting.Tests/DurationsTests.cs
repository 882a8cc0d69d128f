namespace Gantry.Hosting.Tests;

/// <summary>Durations as people write them, and the two ways text can fail to be one: not a duration, or too long for any.</summary>
public sealed class DurationsTests
{
    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("30s", 30)]
    [InlineData("1m30s", 90)]
    [InlineData("2h", 7200)]
    [InlineData("7d", 604800)]
    [InlineData("1.5", 1.5)]
    [InlineData("PT30S", 30)]
    public void TryParse_EachForm_ThatSpan(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out var value, out var tooLong));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
        Assert.False(tooLong);
        Assert.True(Durations.TryParse(Durations.Format(value), out var again) && again == value);
    }

    [Theory]
    [InlineData("4x", false)]
    [InlineData("30s1m", false)]
    [InlineData("", false)]
    [InlineData("-1s", false)]
    [InlineData("99999999999d", true)]
    [InlineData("1e300", false)]
    [InlineData("99999999999999999999", true)]
    public void TryParse_NoDuration_SaysWhetherItWasOnlyTooLong(string text, bool tooLong)
    {
        Assert.False(Durations.TryParse(text, out _, out var saidTooLong));
        Assert.Equal(tooLong, saidTooLong);
    }
}
