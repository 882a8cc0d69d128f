namespace Gantry.Worker;

/// <summary>How a worker runs. Every default is visible here; <see cref="Validate"/> runs at start-up.</summary>
public sealed record WorkerOptions
{
    /// <summary>The default <see cref="PollInterval"/>: 200 ms.</summary>
    public static readonly TimeSpan PollIntervalDefault = TimeSpan.FromMilliseconds(200);
    /// <summary>The default <see cref="LeaseDuration"/>: 30 seconds.</summary>
    public static readonly TimeSpan LeaseDurationDefault = TimeSpan.FromSeconds(30);
    /// <summary>The longest heartbeat interval derived from the lease (<see cref="EffectiveHeartbeatInterval"/>): 5 seconds.</summary>
    public static readonly TimeSpan HeartbeatIntervalDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default <see cref="CommandPollInterval"/>: 250 ms.</summary>
    public static readonly TimeSpan CommandPollIntervalDefault = TimeSpan.FromMilliseconds(250);
    /// <summary>The default <see cref="CancelGracePeriod"/>: 5 seconds.</summary>
    public static readonly TimeSpan CancelGracePeriodDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default <see cref="DrainTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DrainTimeoutDefault = TimeSpan.FromSeconds(30);
    /// <summary>The default <see cref="ProgressInterval"/>: 250 ms.</summary>
    public static readonly TimeSpan ProgressIntervalDefault = TimeSpan.FromMilliseconds(250);

    /// <summary>Identifies this worker in the registry and as lease owner. Defaults to a new id per process.</summary>
    public string WorkerId { get; init; } = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A name for people, shown beside <see cref="WorkerId"/> in every listing; none by default.</summary>
    public string? Name { get; init; }

    /// <summary>Queue name → most jobs run from it at once. Defaults to <c>default:10</c>.</summary>
    public IReadOnlyDictionary<string, int> Queues { get; init; } = new Dictionary<string, int> { ["default"] = 10 };

    /// <summary>Most jobs run at once over all queues. Defaults to the sum of the queues' concurrency.</summary>
    public int? Capacity { get; init; }

    /// <summary>Capabilities advertised; a job requiring capabilities runs only on a worker that has them all.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>Free-form key/value labels registered with the coordinator and shown in worker listings; none by default.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>How often an idle worker looks for jobs written by other processes. Defaults to 200 ms.</summary>
    public TimeSpan PollInterval { get; init; } = PollIntervalDefault;

    /// <summary>How long a claimed job stays the worker's without a heartbeat. Defaults to 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; init; } = LeaseDurationDefault;

    /// <summary>
    /// How often the worker reports in and renews its leases; null (the default) derives it from <see cref="LeaseDuration"/>:
    /// see <see cref="EffectiveHeartbeatInterval"/>.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>
    /// <see cref="HeartbeatInterval"/>, or when not given: a third of the lease less the 3 s the stop of unrenewed attempts
    /// keeps from its end, at most 5 seconds (so 5 seconds for the default lease), at least 250 ms.
    /// </summary>
    public TimeSpan EffectiveHeartbeatInterval => HeartbeatInterval ?? Coordination.LeaseGuard.HeartbeatFor(LeaseDuration, 1, HeartbeatIntervalDefault);

    /// <summary>How often the worker looks for control commands (cancel) between heartbeats. Defaults to 250 ms.</summary>
    public TimeSpan CommandPollInterval { get; init; } = CommandPollIntervalDefault;

    /// <summary>How long a handler may ignore its cancelled token before the attempt is ended anyway. Defaults to 5 seconds.</summary>
    public TimeSpan CancelGracePeriod { get; init; } = CancelGracePeriodDefault;

    /// <summary>On shutdown, how long running jobs may finish before they are cancelled and requeued. Defaults to 30 seconds.</summary>
    public TimeSpan DrainTimeout { get; init; } = DrainTimeoutDefault;

    /// <summary>Least time between two progress writes of one job. Defaults to 250 ms.</summary>
    public TimeSpan ProgressInterval { get; init; } = ProgressIntervalDefault;

    /// <summary>The default <see cref="MaxPrefetch"/>: 1024.</summary>
    public const int MaxPrefetchDefault = 1024;

    /// <summary>
    /// Most jobs claimed ahead of free slots, so that claims are large when jobs are short. The
    /// worker prefetches only what its slots finish within about 50 ms, so slow jobs are not
    /// hoarded; 0 turns prefetching off. Defaults to 1,024.
    /// </summary>
    public int MaxPrefetch { get; init; } = MaxPrefetchDefault;

    /// <summary>The default <see cref="CheckpointInterval"/>: 5 minutes.</summary>
    public static readonly TimeSpan CheckpointIntervalDefault = TimeSpan.FromMinutes(5);
    /// <summary>The default <see cref="MaxCheckpointBytes"/>: 4 MiB.</summary>
    public const int MaxCheckpointBytesDefault = 4 * 1024 * 1024;

    /// <summary>How often a handler that implements <c>ICheckpointSource</c> is asked for its state, unless its
    /// type or job says otherwise. Defaults to 5 minutes.</summary>
    public TimeSpan CheckpointInterval { get; init; } = CheckpointIntervalDefault;

    /// <summary>Largest checkpoint a handler may save. Defaults to 4 MiB.</summary>
    public int MaxCheckpointBytes { get; init; } = MaxCheckpointBytesDefault;

    /// <summary>Timeout for jobs that set none. Defaults to none.</summary>
    public TimeSpan? DefaultJobTimeout { get; init; }

    /// <summary><see cref="Capacity"/>, or when not given the sum of the queues' concurrency.</summary>
    public int EffectiveCapacity => Capacity ?? Queues.Values.Sum();

    /// <summary>Throws <see cref="InvalidInputException"/> naming the flag of the first value that makes no sense; the worker calls it when made.</summary>
    public void Validate()
    {
        if (Name is not null) Gantry.Protocol.Wire.WireValidation.Label(Name, "name");
        if (Queues.Count == 0) throw new InvalidInputException("queues", "at least one queue is required");
        foreach (var (name, concurrency) in Queues)
            if (concurrency < 1) throw new InvalidInputException("queues", $"queue '{name}' needs a concurrency of at least 1, got {concurrency}");
        if (EffectiveCapacity < 1) throw new InvalidInputException("capacity", $"must be at least 1, got {EffectiveCapacity}");
        // A non-positive interval would stop the heartbeat loop at once, and leases would expire under running jobs.
        if (HeartbeatInterval <= TimeSpan.Zero) throw new InvalidInputException("heartbeat interval", "must be positive");
        if (HeartbeatInterval >= LeaseDuration)
            throw new InvalidInputException("heartbeat interval", $"({HeartbeatInterval.Value.TotalSeconds}s) must be shorter than the lease duration ({LeaseDuration.TotalSeconds}s), or leases expire between heartbeats");
        // Attempts whose leases go unrenewed are stopped a margin before the leases end: a lease must leave a heartbeat room before that.
        if (Coordination.LeaseGuard.TooShort(LeaseDuration, EffectiveHeartbeatInterval, 1, derived: HeartbeatInterval is null) is { } tooShort)
            throw new InvalidInputException("lease duration", tooShort);
        if (PollInterval <= TimeSpan.Zero) throw new InvalidInputException("poll interval", "must be positive");
        if (CommandPollInterval <= TimeSpan.Zero) throw new InvalidInputException("command poll interval", "must be positive");
        if (CheckpointInterval <= TimeSpan.Zero) throw new InvalidInputException("checkpoint interval", "must be positive");
        if (MaxCheckpointBytes < 1) throw new InvalidInputException("max checkpoint bytes", "must be at least 1");
        if (MaxPrefetch < 0) throw new InvalidInputException("max prefetch", "must not be negative");
        if (DrainTimeout < TimeSpan.Zero) throw new InvalidInputException("drain timeout", "must not be negative");
        if (CancelGracePeriod < TimeSpan.Zero) throw new InvalidInputException("cancel grace period", "must not be negative");
        if (ProgressInterval < TimeSpan.Zero) throw new InvalidInputException("progress interval", "must not be negative");
        if (DefaultJobTimeout <= TimeSpan.Zero) throw new InvalidInputException("default job timeout", "must be positive");
        // The range every link takes a lease in (a server refuses a longer one from an HTTP worker).
        Gantry.Jobs.LeaseRange.Check(LeaseDuration.TotalSeconds, "lease duration");
        foreach (var (where, span) in new (string, TimeSpan?)[]
        {
            ("heartbeat interval", HeartbeatInterval), ("poll interval", PollInterval),
            ("command poll interval", CommandPollInterval), ("checkpoint interval", CheckpointInterval), ("drain timeout", DrainTimeout),
            ("cancel grace period", CancelGracePeriod), ("progress interval", ProgressInterval),
        })
            Gantry.Time.Timers.CheckLongest(span, where);
    }
}
