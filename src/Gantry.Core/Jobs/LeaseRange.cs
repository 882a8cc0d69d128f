namespace Gantry.Jobs;

/// <summary>
/// The leases a worker may ask for, on every link that takes one from outside (fetch and heartbeat
/// over HTTP): from 1 second to 1 day. Shorter expires before a heartbeat can renew it; longer keeps
/// a job from being rescued for days after its worker vanished; a negative one would hand a running
/// job to the rescuer at once.
/// </summary>
public static class LeaseRange
{
    /// <summary>The shortest lease: 1 second.</summary>
    public static readonly TimeSpan Min = TimeSpan.FromSeconds(1);
    /// <summary>The longest lease: 1 day.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(1);

    /// <summary>The lease of <paramref name="seconds"/>; throws <see cref="InvalidInputException"/> naming <paramref name="where"/> when out of range.</summary>
    public static TimeSpan Check(double seconds, string where) =>
        seconds >= Min.TotalSeconds && seconds <= Max.TotalSeconds ? TimeSpan.FromSeconds(seconds)
            : throw new InvalidInputException(where, $"must be between {Min.TotalSeconds:0} and {Max.TotalSeconds:0} seconds, got {seconds}");
}
