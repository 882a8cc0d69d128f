using Microsoft.Extensions.Time.Testing;

namespace Gantry.TestSupport;

/// <summary>Fake clocks for tests: time passes only when the test calls <see cref="FakeTimeProvider.Advance"/>,
/// and timers and delays made on the clock (<c>Task.Delay(d, clock)</c>) fire only then.</summary>
public static class TestClock
{
    /// <summary>Where every fake clock starts unless a test says otherwise: a fixed instant, so that failures reproduce.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 31, 9, 30, 0, TimeSpan.Zero);

    /// <summary>A fake clock at <see cref="Start"/> (or <paramref name="start"/>), in UTC.</summary>
    public static FakeTimeProvider New(DateTimeOffset? start = null)
    {
        var clock = new FakeTimeProvider(start ?? Start);
        clock.SetLocalTimeZone(TimeZoneInfo.Utc);
        return clock;
    }
}
