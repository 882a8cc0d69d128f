namespace Gantry.Storage.ContractTests;

/// <summary>
/// A clock that moves only when the test says so, for lease expiry and scheduling. Timers and
/// timestamps stay real: the stores read only <see cref="GetUtcNow"/>.
/// </summary>
public sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 31, 9, 30, 0, TimeSpan.Zero);

    private readonly object _lock = new();
    private DateTimeOffset _now = start;

    public FakeTimeProvider() : this(DefaultStart)
    {
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_lock) _now += by;
    }
}
