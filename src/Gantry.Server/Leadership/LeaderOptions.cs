namespace Gantry.Server.Leadership;

/// <summary>How a process competes for leadership of the maintenance services, with the defaults.</summary>
public sealed record LeaderOptions
{
    /// <summary>The default of <see cref="Name"/>: <c>maintenance</c>.</summary>
    public const string NameDefault = "maintenance";
    /// <summary>The default of <see cref="ElectInterval"/>: 2 seconds.</summary>
    public static readonly TimeSpan ElectIntervalDefault = TimeSpan.FromSeconds(2);
    /// <summary>The default of <see cref="Ttl"/>: 10 seconds.</summary>
    public static readonly TimeSpan TtlDefault = TimeSpan.FromSeconds(10);

    /// <summary>What is led; processes competing for the same name on one store elect one leader.</summary>
    public string Name { get; init; } = NameDefault;

    /// <summary>Identifies this process in the election. Defaults to host, pid and a random suffix.</summary>
    public string HolderId { get; init; } = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How often a standby tries to become leader, and the leader confirms it still is. Defaults to 2 seconds.</summary>
    public TimeSpan ElectInterval { get; init; } = ElectIntervalDefault;

    /// <summary>
    /// How long leadership outlives a silent leader on a store without sessions (SQLite), and how long a
    /// leader cut off from the store keeps running maintenance before it stands down. Defaults to 10 seconds.
    /// </summary>
    public TimeSpan Ttl { get; init; } = TtlDefault;

    /// <summary>Refuses an empty name, a non-positive interval and a ttl shorter than two intervals (<see cref="InvalidInputException"/>).</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new InvalidInputException("leader name", "must not be empty");
        if (ElectInterval <= TimeSpan.Zero) throw new InvalidInputException("leader elect interval", "must be positive");
        Gantry.Time.Timers.CheckLongest(ElectInterval, "leader elect interval");
        Gantry.Time.Timers.CheckLongest(Ttl, "leader ttl");
        // The leader renews once per interval: a ttl shorter than two of them would let the lease lapse between renewals.
        if (Ttl < ElectInterval * 2)
            throw new InvalidInputException("leader ttl", $"({Ttl.TotalSeconds}s) must be at least twice the elect interval ({ElectInterval.TotalSeconds}s)");
    }
}
