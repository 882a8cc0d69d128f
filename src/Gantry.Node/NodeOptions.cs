namespace Gantry.Node;

/// <summary>How a node runs. Every default is visible here; <see cref="Validate"/> runs at start-up.</summary>
public sealed record NodeOptions
{
    /// <summary>The default <see cref="RestartBackoff"/>: 1 second.</summary>
    public static readonly TimeSpan RestartBackoffDefault = TimeSpan.FromSeconds(1);
    /// <summary>The default <see cref="RestartBackoffMax"/>: 60 seconds.</summary>
    public static readonly TimeSpan RestartBackoffMaxDefault = TimeSpan.FromSeconds(60);
    /// <summary>The default <see cref="MaxRestarts"/>: 5.</summary>
    public const int MaxRestartsDefault = 5;
    /// <summary>The default <see cref="RestartWindow"/>: 5 minutes.</summary>
    public static readonly TimeSpan RestartWindowDefault = TimeSpan.FromMinutes(5);
    /// <summary>The default <see cref="StableAfter"/>: 60 seconds.</summary>
    public static readonly TimeSpan StableAfterDefault = TimeSpan.FromSeconds(60);
    /// <summary>The default <see cref="PingInterval"/>: 2 seconds.</summary>
    public static readonly TimeSpan PingIntervalDefault = TimeSpan.FromSeconds(2);
    /// <summary>The default <see cref="PingTimeout"/>: 5 seconds.</summary>
    public static readonly TimeSpan PingTimeoutDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default <see cref="StartTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan StartTimeoutDefault = TimeSpan.FromSeconds(30);
    /// <summary>The default <see cref="LeaseDuration"/>: 30 seconds.</summary>
    public static readonly TimeSpan LeaseDurationDefault = TimeSpan.FromSeconds(30);
    /// <summary>The longest heartbeat interval derived from the lease (<see cref="EffectiveHeartbeatInterval"/>): 5 seconds.</summary>
    public static readonly TimeSpan HeartbeatIntervalDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default <see cref="DrainTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DrainTimeoutDefault = TimeSpan.FromSeconds(30);
    /// <summary>The default <see cref="CancelGracePeriod"/>: 5 seconds.</summary>
    public static readonly TimeSpan CancelGracePeriodDefault = TimeSpan.FromSeconds(5);

    /// <summary>The node's id in the coordinator's registry and as lease owner of every job its workers run. Defaults to a new id per process.</summary>
    public string NodeId { get; init; } = $"{Environment.MachineName.ToLowerInvariant()}-node-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>
    /// Where the node makes its own private directory (<see cref="PrivateDirectory"/>, mode 0700) for its socket
    /// (<c>node.sock</c>, mode 0600). The run directory itself may be shared (/tmp): it is never changed.
    /// </summary>
    public required string RunDirectory { get; init; }

    /// <summary>The node's own directory in <see cref="RunDirectory"/>: <c>gantry-node-&lt;user&gt;</c>.</summary>
    public string PrivateDirectory => PrivateIn(RunDirectory);

    /// <summary>The default <see cref="RunDirectory"/>: <c>$XDG_RUNTIME_DIR</c>, else the temporary folder.</summary>
    public static string DefaultRunDirectory() =>
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg ? xdg : Path.GetTempPath().TrimEnd('/');

    /// <summary>The node's private directory in <paramref name="runDirectory"/>: <c>gantry-node-&lt;user&gt;</c>, one per user.</summary>
    public static string PrivateIn(string runDirectory) => Path.Combine(runDirectory, $"gantry-node-{Environment.UserName}");

    /// <summary>Where a node started with <c>--run-dir</c> <paramref name="runDirectory"/> listens.</summary>
    public static string SocketIn(string runDirectory) => Path.Combine(PrivateIn(runDirectory), "node.sock");

    /// <summary>The command line that starts a worker process, before the node's arguments (the <c>gantry</c> executable).</summary>
    public required IReadOnlyList<string> WorkerCommand { get; init; }

    /// <summary>Arguments added to every worker's command line (its queues, capacity, config …).</summary>
    public IReadOnlyList<string> WorkerArguments { get; init; } = [];

    /// <summary>Whether the workers' output is copied to the node's, each line prefixed with the worker's number. Defaults to true.</summary>
    public bool RelayWorkerOutput { get; init; } = true;

    /// <summary>Most workers one node may run.</summary>
    public const int MostWorkers = 256;

    /// <summary>Workers started at first. Defaults to 2.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Fewest workers the autoscaler keeps. Defaults to <see cref="Workers"/>.</summary>
    public int? MinWorkers { get; init; }

    /// <summary>Most workers the autoscaler starts. Defaults to <see cref="Workers"/> (no autoscaling).</summary>
    public int? MaxWorkers { get; init; }

    /// <summary>Queue name → most jobs one worker runs from it at once.</summary>
    public IReadOnlyDictionary<string, int> Queues { get; init; } = new Dictionary<string, int> { ["default"] = 4 };

    /// <summary>Most jobs one worker runs at once. Defaults to the sum of the queues' concurrency.</summary>
    public int? WorkerCapacity { get; init; }

    /// <summary>What the node's machine offers (e.g. <c>gpu</c>), registered with the coordinator and shown in worker listings; none by default.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    /// <summary>Free-form key/value labels registered with the coordinator and shown in worker listings; none by default.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The job types the workers serve, registered for the node (submit checks types against the registry).</summary>
    public IReadOnlyList<string> JobTypes { get; init; } = [];

    /// <summary>First delay before a crashed worker is started again; doubled per crash in a row. Defaults to 1 second.</summary>
    public TimeSpan RestartBackoff { get; init; } = RestartBackoffDefault;

    /// <summary>Longest delay between restarts. Defaults to 60 seconds.</summary>
    public TimeSpan RestartBackoffMax { get; init; } = RestartBackoffMaxDefault;

    /// <summary>Most restarts of one worker within <see cref="RestartWindow"/>; one more and it is marked failed. Defaults to 5.</summary>
    public int MaxRestarts { get; init; } = MaxRestartsDefault;

    /// <summary>The window <see cref="MaxRestarts"/> counts restarts in. Defaults to 5 minutes.</summary>
    public TimeSpan RestartWindow { get; init; } = RestartWindowDefault;

    /// <summary>A worker that ran this long before it exited starts over from the first backoff. Defaults to 60 seconds.</summary>
    public TimeSpan StableAfter { get; init; } = StableAfterDefault;

    /// <summary>How often the node pings each worker. Defaults to 2 seconds.</summary>
    public TimeSpan PingInterval { get; init; } = PingIntervalDefault;

    /// <summary>A worker that does not answer a ping this fast is killed and started again. Defaults to 5 seconds.</summary>
    public TimeSpan PingTimeout { get; init; } = PingTimeoutDefault;

    /// <summary>A spawned worker that has not connected after this long is killed. Defaults to 30 seconds.</summary>
    public TimeSpan StartTimeout { get; init; } = StartTimeoutDefault;

    /// <summary>How long a claimed job stays the node's without a heartbeat. Defaults to 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; init; } = LeaseDurationDefault;

    /// <summary>
    /// How often the node renews its leases, and its workers report to it; null (the default) derives it from
    /// <see cref="LeaseDuration"/>: see <see cref="EffectiveHeartbeatInterval"/>.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>
    /// <see cref="HeartbeatInterval"/>, or when not given: a quarter of the lease less the 3 s the stop of unrenewed attempts
    /// keeps from its end, at most 5 seconds (so 5 seconds for the default lease), at least 250 ms.
    /// </summary>
    public TimeSpan EffectiveHeartbeatInterval => HeartbeatInterval ?? Gantry.Worker.Coordination.LeaseGuard.HeartbeatFor(LeaseDuration, 2, HeartbeatIntervalDefault);

    /// <summary>
    /// How often the node looks for commands (cancels, pause, drain) while its workers hold attempts; when they hold
    /// none, once a second. Defaults to 250 ms, as a worker's (<see cref="Gantry.Worker.WorkerOptions.CommandPollInterval"/>).
    /// </summary>
    public TimeSpan CommandPollInterval { get; init; } = Gantry.Worker.WorkerOptions.CommandPollIntervalDefault;

    /// <summary>On shutdown, how long workers may finish running jobs before the rest are requeued. Defaults to 30 seconds.</summary>
    public TimeSpan DrainTimeout { get; init; } = DrainTimeoutDefault;

    /// <summary>The workers' grace period for cancelled handlers; the node waits for it too on shutdown.</summary>
    public TimeSpan CancelGracePeriod { get; init; } = CancelGracePeriodDefault;

    /// <summary>How the autoscaler decides, when <see cref="EffectiveMinWorkers"/> is below <see cref="EffectiveMaxWorkers"/>.</summary>
    public Autoscaling.AutoscaleOptions Autoscale { get; init; } = Autoscaling.AutoscaleOptions.Default;

    /// <summary>A name for people, shown beside <see cref="NodeId"/> in every listing; none by default.</summary>
    public string? Name { get; init; }

    /// <summary><see cref="MinWorkers"/>, or when not given the smaller of <see cref="Workers"/> and <see cref="MaxWorkers"/>.</summary>
    public int EffectiveMinWorkers => MinWorkers ?? Math.Min(Workers, MaxWorkers ?? Workers);
    /// <summary><see cref="MaxWorkers"/>, or when not given the larger of <see cref="Workers"/> and <see cref="MinWorkers"/>.</summary>
    public int EffectiveMaxWorkers => MaxWorkers ?? Math.Max(Workers, MinWorkers ?? Workers);
    /// <summary><see cref="WorkerCapacity"/>, or when not given the sum of the queues' concurrency.</summary>
    public int EffectiveWorkerCapacity => WorkerCapacity ?? Queues.Values.Sum();

    /// <summary>The socket path in <see cref="PrivateDirectory"/>.</summary>
    public string SocketPath => SocketIn(RunDirectory);

    /// <summary>Throws <see cref="InvalidInputException"/> naming the flag of the first value that makes no sense; the node's constructor calls it.</summary>
    public void Validate()
    {
        // A node with no worker could never run a job: an autoscaled one may shrink to --min-workers 0, but starts with one.
        if (Workers < 1) throw new InvalidInputException("--workers", $"must be at least 1, got {Workers}");
        if (MinWorkers < 0) throw new InvalidInputException("--min-workers", $"must not be negative, got {MinWorkers}");
        if (MaxWorkers < 1) throw new InvalidInputException("--max-workers", $"must be at least 1, got {MaxWorkers}");
        if (EffectiveMinWorkers > EffectiveMaxWorkers)
            throw new InvalidInputException("--min-workers", $"({EffectiveMinWorkers}) must not be more than --max-workers ({EffectiveMaxWorkers})");
        if (Workers < EffectiveMinWorkers || Workers > EffectiveMaxWorkers)
            throw new InvalidInputException("--workers", $"({Workers}) must be between --min-workers ({EffectiveMinWorkers}) and --max-workers ({EffectiveMaxWorkers})");
        if (EffectiveMaxWorkers > MostWorkers) throw new InvalidInputException("--max-workers", $"must be at most {MostWorkers}, got {EffectiveMaxWorkers}");
        if (Queues.Count == 0) throw new InvalidInputException("--queues", "at least one queue is required");
        if (EffectiveWorkerCapacity < 1) throw new InvalidInputException("--worker-capacity", $"must be at least 1, got {EffectiveWorkerCapacity}");
        if (RestartBackoff <= TimeSpan.Zero || RestartBackoffMax < RestartBackoff)
            throw new InvalidInputException("--restart-backoff", "must be positive and at most --restart-backoff-max");
        if (MaxRestarts < 0) throw new InvalidInputException("--max-restarts", "must not be negative");
        if (PingInterval <= TimeSpan.Zero || PingTimeout <= TimeSpan.Zero) throw new InvalidInputException("--ping-interval", "ping interval and timeout must be positive");
        if (HeartbeatInterval <= TimeSpan.Zero || HeartbeatInterval >= LeaseDuration)
            throw new InvalidInputException("--heartbeat-interval", "must be positive and shorter than the lease duration");
        // The node takes unrenewed attempts back a margin before their leases end, and its workers hear of it at their next heartbeat.
        if (Gantry.Worker.Coordination.LeaseGuard.TooShort(LeaseDuration, EffectiveHeartbeatInterval, 2, derived: HeartbeatInterval is null) is { } tooShort)
            throw new InvalidInputException("--lease-duration", tooShort);
        if (CommandPollInterval <= TimeSpan.Zero) throw new InvalidInputException("command poll interval", "must be positive");
        if (RestartWindow <= TimeSpan.Zero) throw new InvalidInputException("--restart-window", "must be positive");
        if (StableAfter < TimeSpan.Zero) throw new InvalidInputException("--stable-after", "must not be negative");
        if (StartTimeout <= TimeSpan.Zero) throw new InvalidInputException("start timeout", "must be positive");
        if (DrainTimeout < TimeSpan.Zero) throw new InvalidInputException("--drain-timeout", "must not be negative");
        if (CancelGracePeriod < TimeSpan.Zero) throw new InvalidInputException("--cancel-grace-period", "must not be negative");
        Gantry.Jobs.LeaseRange.Check(LeaseDuration.TotalSeconds, "--lease-duration");
        foreach (var (where, span) in new (string, TimeSpan?)[]
        {
            ("--restart-backoff-max", RestartBackoffMax), ("--restart-window", RestartWindow), ("--stable-after", StableAfter),
            ("--ping-interval", PingInterval), ("--ping-timeout", PingTimeout), ("--heartbeat-interval", HeartbeatInterval),
            ("command poll interval", CommandPollInterval), ("start timeout", StartTimeout),
            ("--drain-timeout", DrainTimeout), ("--cancel-grace-period", CancelGracePeriod),
        })
            Gantry.Time.Timers.CheckLongest(span, where);
        Autoscale.Validate();
        if (Name is not null) Gantry.Protocol.Wire.WireValidation.Label(Name, "--name");
        if (WorkerCommand.Count == 0) throw new InvalidInputException("worker command", "is empty");
        // Unix socket paths are limited to 107 bytes.
        if (System.Text.Encoding.UTF8.GetByteCount(SocketPath) > 107)
            throw new InvalidInputException("--run-dir", $"'{RunDirectory}' is too long for a Unix socket path (at most about 95 characters)");
    }
}
