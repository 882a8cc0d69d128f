namespace Gantry.Time;

/// <summary>
/// How long a loop that keeps failing to reach its coordinator (a store, a server, a node) waits
/// before it tries again: each failure doubles the pause, up to <see cref="Max"/>, so an outage is
/// neither hammered nor waited out for long once it ends. One rule for every such loop.
/// </summary>
public static class RetryPause
{
    /// <summary>The longest pause: 10 seconds.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(10);

    /// <summary>The pause after one that did not help.</summary>
    public static TimeSpan After(TimeSpan pause) => TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, Max.Ticks));
}
