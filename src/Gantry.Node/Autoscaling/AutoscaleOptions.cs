namespace Gantry.Node.Autoscaling;

/// <summary>
/// How the autoscaler of a node with <c>--min-workers</c> below <c>--max-workers</c> decides. It samples the load every
/// <see cref="Interval"/>: it adds workers when every sample of the last <see cref="UpWindow"/> was at or above
/// <see cref="Target"/> utilisation with jobs waiting, and removes one when every sample of the last
/// <see cref="DownWindow"/> was below <see cref="Idle"/> with nothing waiting. After a change it makes none for the
/// change's cooldown, and starts its windows afresh. Every default is visible here; <see cref="Validate"/> runs at start-up.
/// </summary>
public sealed record AutoscaleOptions
{
    /// <summary>The default <see cref="Target"/>: 0.75.</summary>
    public const double TargetDefault = 0.75;
    /// <summary>The default <see cref="Idle"/>: 0.3.</summary>
    public const double IdleDefault = 0.3;
    /// <summary>The default <see cref="Interval"/>: 1 second.</summary>
    public static readonly TimeSpan IntervalDefault = TimeSpan.FromSeconds(1);
    /// <summary>The default <see cref="UpWindow"/>: 3 seconds.</summary>
    public static readonly TimeSpan UpWindowDefault = TimeSpan.FromSeconds(3);
    /// <summary>The default <see cref="DownWindow"/>: 8 seconds.</summary>
    public static readonly TimeSpan DownWindowDefault = TimeSpan.FromSeconds(8);
    /// <summary>The default <see cref="UpCooldown"/>: 3 seconds.</summary>
    public static readonly TimeSpan UpCooldownDefault = TimeSpan.FromSeconds(3);
    /// <summary>The default <see cref="DownCooldown"/>: 3 seconds.</summary>
    public static readonly TimeSpan DownCooldownDefault = TimeSpan.FromSeconds(3);

    /// <summary>The shortest sampling interval: the node asks the store for its backlog at each sample.</summary>
    public static readonly TimeSpan LeastInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Every value at its default.</summary>
    public static readonly AutoscaleOptions Default = new();

    /// <summary>Utilisation (running jobs over the workers' capacity) at or above which, with jobs waiting, the node adds workers. Defaults to 0.75.</summary>
    public double Target { get; init; } = TargetDefault;

    /// <summary>Utilisation below which, with nothing waiting, the node removes a worker. Defaults to 0.3.</summary>
    public double Idle { get; init; } = IdleDefault;

    /// <summary>How often the load is sampled. Defaults to 1 second.</summary>
    public TimeSpan Interval { get; init; } = IntervalDefault;

    /// <summary>How long the node must be busy with work waiting before it adds workers. Defaults to 3 seconds.</summary>
    public TimeSpan UpWindow { get; init; } = UpWindowDefault;

    /// <summary>How long the node must be idle with nothing waiting before it removes a worker. Defaults to 8 seconds.</summary>
    public TimeSpan DownWindow { get; init; } = DownWindowDefault;

    /// <summary>After adding workers, how long no other change is made (they start and take jobs first). Defaults to 3 seconds.</summary>
    public TimeSpan UpCooldown { get; init; } = UpCooldownDefault;

    /// <summary>After removing a worker, how long no other change is made. Defaults to 3 seconds.</summary>
    public TimeSpan DownCooldown { get; init; } = DownCooldownDefault;

    /// <summary>Samples in <see cref="UpWindow"/> (at least one).</summary>
    public int UpSamples => Samples(UpWindow);

    /// <summary>Samples in <see cref="DownWindow"/> (at least one).</summary>
    public int DownSamples => Samples(DownWindow);

    /// <summary>Samples skipped after adding workers.</summary>
    public int UpCooldownSamples => Samples(UpCooldown, least: 0);

    /// <summary>Samples skipped after removing a worker.</summary>
    public int DownCooldownSamples => Samples(DownCooldown, least: 0);

    private int Samples(TimeSpan span, int least = 1) =>
        Math.Max(least, (int)Math.Min(int.MaxValue, Math.Ceiling(span.Ticks / (double)Math.Max(Interval.Ticks, 1) - 1e-9)));

    /// <summary>Throws <see cref="InvalidInputException"/> naming the flag of the first value that makes no sense.</summary>
    public void Validate()
    {
        if (!(Target > 0 && Target <= 1)) throw new InvalidInputException("--autoscale-target", $"must be more than 0 and at most 1 (100%), got {Target}");
        if (!(Idle >= 0 && Idle < Target))
            throw new InvalidInputException("--autoscale-idle", $"must be at least 0 and below --autoscale-target ({Target:0.##}), got {Idle}");
        if (Interval < LeastInterval)
            throw new InvalidInputException("--autoscale-interval", $"must be at least {LeastInterval.TotalMilliseconds:0}ms (each sample asks the store for its backlog)");
        if (UpWindow < Interval) throw new InvalidInputException("--autoscale-up-window", "must be at least --autoscale-interval (one sample)");
        if (DownWindow < Interval) throw new InvalidInputException("--autoscale-down-window", "must be at least --autoscale-interval (one sample)");
        if (UpCooldown < TimeSpan.Zero) throw new InvalidInputException("--autoscale-up-cooldown", "must not be negative");
        if (DownCooldown < TimeSpan.Zero) throw new InvalidInputException("--autoscale-down-cooldown", "must not be negative");
        foreach (var (where, span) in new[]
        {
            ("--autoscale-interval", Interval), ("--autoscale-up-window", UpWindow), ("--autoscale-down-window", DownWindow),
            ("--autoscale-up-cooldown", UpCooldown), ("--autoscale-down-cooldown", DownCooldown),
        })
            Gantry.Time.Timers.CheckLongest(span, where);
    }
}
