namespace Gantry.Time;

/// <summary>
/// The longest span a setting that drives a timer may take (an interval, a timeout, a lease, a window). .NET's timers,
/// <c>Task.Delay</c>, <c>CancelAfter</c>, <c>HttpClient.Timeout</c> and SQLite's busy timeout stop at about 24.8 days
/// (2³¹ − 1 ms, the smallest of them); a longer setting would fail when the timer is armed, long after start-up. One
/// rule for every such setting, checked where its options are validated.
/// </summary>
public static class Timers
{
    /// <summary>The longest span a timer setting may take: 24 days.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(24);

    /// <summary>Refuses <paramref name="value"/> when it is longer than <see cref="Longest"/>, naming <paramref name="where"/>.</summary>
    /// <exception cref="InvalidInputException">The span is longer than <see cref="Longest"/>.</exception>
    public static void CheckLongest(TimeSpan value, string where)
    {
        if (value > Longest)
            throw new InvalidInputException(where, $"must be at most {Longest.TotalDays:0} days, got {value.TotalDays:0.###} days");
    }

    /// <inheritdoc cref="CheckLongest(TimeSpan, string)"/>
    public static void CheckLongest(TimeSpan? value, string where)
    {
        if (value is { } v) CheckLongest(v, where);
    }
}
