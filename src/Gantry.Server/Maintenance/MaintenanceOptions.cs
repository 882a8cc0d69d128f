namespace Gantry.Server.Maintenance;

/// <summary>Intervals and limits of the maintenance services, with their defaults.</summary>
public sealed record MaintenanceOptions
{
    /// <summary>The default of <see cref="SchedulerInterval"/>: 1 second.</summary>
    public static readonly TimeSpan SchedulerIntervalDefault = TimeSpan.FromSeconds(1);
    /// <summary>The default of <see cref="RescuerInterval"/>: 5 seconds.</summary>
    public static readonly TimeSpan RescuerIntervalDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default of <see cref="CleanerInterval"/>: 5 minutes.</summary>
    public static readonly TimeSpan CleanerIntervalDefault = TimeSpan.FromMinutes(5);
    /// <summary>The default of <see cref="Retention"/>: 7 days.</summary>
    public static readonly TimeSpan RetentionDefault = TimeSpan.FromDays(7);
    /// <summary>The default of <see cref="DeadWorkerTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DeadWorkerTimeoutDefault = TimeSpan.FromSeconds(30);
    /// <summary>The default of <see cref="DeadWorkerInterval"/>: 5 seconds.</summary>
    public static readonly TimeSpan DeadWorkerIntervalDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default of <see cref="UpkeepInterval"/>: 1 second.</summary>
    public static readonly TimeSpan UpkeepIntervalDefault = TimeSpan.FromSeconds(1);
    /// <summary>The default of <see cref="WorkerRetention"/>: 1 hour.</summary>
    public static readonly TimeSpan WorkerRetentionDefault = TimeSpan.FromHours(1);
    /// <summary>The default of <see cref="CleanerBatch"/>: 1000.</summary>
    public const int CleanerBatchDefault = 1000;

    /// <summary>Longest the scheduler sleeps on a store whose signals do not carry other processes' writes (SQLite); it
    /// wakes earlier for the next due job. Defaults to 1 second.</summary>
    public TimeSpan SchedulerInterval { get; init; } = SchedulerIntervalDefault;
    /// <summary>How often expired leases are looked for. Defaults to 5 seconds.</summary>
    public TimeSpan RescuerInterval { get; init; } = RescuerIntervalDefault;
    /// <summary>How often finished jobs past retention are deleted. Defaults to 5 minutes.</summary>
    public TimeSpan CleanerInterval { get; init; } = CleanerIntervalDefault;
    /// <summary>How long finished jobs are kept. Defaults to 7 days.</summary>
    public TimeSpan Retention { get; init; } = RetentionDefault;
    /// <summary>Finished jobs the cleaner deletes per transaction. Defaults to 1,000: small enough that a batch never holds
    /// the store's writer (SQLite) or its rows long enough to slow claims.</summary>
    public int CleanerBatch { get; init; } = CleanerBatchDefault;
    /// <summary>How long stopped and dead workers stay listed (with --all) before the cleaner removes them. Defaults to 1 hour.</summary>
    public TimeSpan WorkerRetention { get; init; } = WorkerRetentionDefault;
    /// <summary>How long a worker may go without a heartbeat before it is marked dead and its jobs are rescued. Defaults to 30 seconds.</summary>
    public TimeSpan DeadWorkerTimeout { get; init; } = DeadWorkerTimeoutDefault;
    /// <summary>How often silent workers are looked for. Defaults to 5 seconds.</summary>
    public TimeSpan DeadWorkerInterval { get; init; } = DeadWorkerIntervalDefault;
    /// <summary>How often the store's own housekeeping runs while the store is busy (<see cref="StoreUpkeep"/>). Defaults to 1 second.</summary>
    public TimeSpan UpkeepInterval { get; init; } = UpkeepIntervalDefault;

    /// <summary>Least interval of a maintenance loop: a shorter one keeps a core busy querying an idle store.</summary>
    public static readonly TimeSpan LeastInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Refuses intervals that would spin and timeouts that make no sense; runs when the services are added.</summary>
    public void Validate()
    {
        foreach (var (name, value) in new[]
        {
            ("scheduler interval", SchedulerInterval), ("rescue interval", RescuerInterval), ("cleaner interval", CleanerInterval),
            ("dead-worker interval", DeadWorkerInterval), ("upkeep interval", UpkeepInterval),
        })
        {
            if (value < LeastInterval)
                throw new InvalidInputException(name, $"must be at least {LeastInterval.TotalMilliseconds:0}ms, got {value.TotalMilliseconds:0.###}ms (a shorter interval keeps a core busy)");
            Gantry.Time.Timers.CheckLongest(value, name);
        }
        if (CleanerBatch < 1) throw new InvalidInputException("cleaner batch", "must be at least 1");
        if (Retention < TimeSpan.Zero) throw new InvalidInputException("retention", "must not be negative");
        if (DeadWorkerTimeout <= TimeSpan.Zero) throw new InvalidInputException("dead-worker timeout", "must be positive");
        Gantry.Time.Timers.CheckLongest(DeadWorkerTimeout, "dead-worker timeout");
        Gantry.Storage.QueueRetention.CheckKeep(Retention, "retention");
        Gantry.Storage.QueueRetention.CheckKeep(WorkerRetention, "worker retention");
    }
}
