using Gantry.Node;
using Gantry.Worker;

namespace Gantry.Cli.Options;

/// <summary>The flags of <c>gantry node</c> beyond the worker flags it passes on.</summary>
internal sealed class NodeCliOptions
{
    public Option<int> Workers { get; } = CliOptions.Count("--workers", "Worker processes to start", 2, least: 1, most: NodeOptions.MostWorkers);
    public Option<int?> MinWorkers { get; } = CliOptions.OptionalCount("--min-workers", "Fewest workers when autoscaling (default: --workers)", least: 0, most: NodeOptions.MostWorkers);
    public Option<int?> MaxWorkers { get; } = CliOptions.OptionalCount("--max-workers", "Most workers when autoscaling (default: --workers, no autoscaling)", least: 1, most: NodeOptions.MostWorkers);
    public Option<string> RunDir { get; } = RunDirectory();
    public Option<FlagDuration?> RestartBackoff { get; } = CliOptions.Interval("--restart-backoff", "First delay before a crashed worker is restarted, doubled per crash in a row", NodeOptions.RestartBackoffDefault);
    public Option<FlagDuration?> RestartBackoffMax { get; } = CliOptions.Interval("--restart-backoff-max", "Longest delay between restarts", NodeOptions.RestartBackoffMaxDefault);
    public Option<int> MaxRestarts { get; } = CliOptions.Count("--max-restarts", "Restarts of one worker within --restart-window before it is marked failed", NodeOptions.MaxRestartsDefault, least: 0);
    public Option<FlagDuration?> RestartWindow { get; } = CliOptions.Duration("--restart-window", "The window --max-restarts counts in", NodeOptions.RestartWindowDefault, least: TimeSpan.FromSeconds(1));
    public Option<FlagDuration?> StableAfter { get; } = CliOptions.Duration("--stable-after", "A worker that ran this long before exiting restarts from the first backoff", NodeOptions.StableAfterDefault);
    public Option<FlagDuration?> PingInterval { get; } = CliOptions.Interval("--ping-interval", "How often the node pings each worker", NodeOptions.PingIntervalDefault);
    public Option<FlagDuration?> PingTimeout { get; } = CliOptions.Duration("--ping-timeout", "A worker that does not answer a ping this fast is killed and restarted", NodeOptions.PingTimeoutDefault, least: TimeSpan.FromMilliseconds(100));
    public Option<double> AutoscaleTarget { get; } = Fraction("--autoscale-target", "Utilisation (running jobs over the workers' capacity) at or above which, with jobs waiting, the autoscaler adds workers: 0.75 or 75%", Gantry.Node.Autoscaling.AutoscaleOptions.TargetDefault);
    public Option<double> AutoscaleIdle { get; } = Fraction("--autoscale-idle", "Utilisation below which, with nothing waiting, the autoscaler removes a worker", Gantry.Node.Autoscaling.AutoscaleOptions.IdleDefault);
    public Option<FlagDuration?> AutoscaleInterval { get; } = CliOptions.Interval("--autoscale-interval", "How often the autoscaler samples the load", Gantry.Node.Autoscaling.AutoscaleOptions.IntervalDefault, Gantry.Node.Autoscaling.AutoscaleOptions.LeastInterval);
    public Option<FlagDuration?> AutoscaleUpWindow { get; } = CliOptions.Duration("--autoscale-up-window", "How long the workers must be busy with jobs waiting before workers are added", Gantry.Node.Autoscaling.AutoscaleOptions.UpWindowDefault);
    public Option<FlagDuration?> AutoscaleDownWindow { get; } = CliOptions.Duration("--autoscale-down-window", "How long the workers must be idle with nothing waiting before one is removed", Gantry.Node.Autoscaling.AutoscaleOptions.DownWindowDefault);
    public Option<FlagDuration?> AutoscaleUpCooldown { get; } = CliOptions.Duration("--autoscale-up-cooldown", "After adding workers, how long the autoscaler makes no other change", Gantry.Node.Autoscaling.AutoscaleOptions.UpCooldownDefault);
    public Option<FlagDuration?> AutoscaleDownCooldown { get; } = CliOptions.Duration("--autoscale-down-cooldown", "After removing a worker, how long the autoscaler makes no other change", Gantry.Node.Autoscaling.AutoscaleOptions.DownCooldownDefault);

    /// <summary>The executable the node starts its workers with: gantry-worker or gantry (<see cref="WorkerExecutable"/>).</summary>
    public Option<string?> WorkerBinary { get; } = new("--worker-binary")
    {
        Description = $"The executable the workers run (as `PATH worker …`): gantry, or {SlimWorker}, a worker without the web host that holds less memory (default: {SlimWorker} when it sits beside this gantry executable and no telemetry export is configured, else gantry itself)",
        HelpName = "path",
    };

    /// <summary>Extra arguments for every worker, for diagnosis (e.g. --worker-arg=--log-level=Debug).</summary>
    public Option<string[]> WorkerArg { get; } = new("--worker-arg") { Hidden = true, AllowMultipleArgumentsPerToken = false };

    /// <summary>The default run directory: $XDG_RUNTIME_DIR, else the temporary folder.</summary>
    public static Option<string> RunDirectory() => new("--run-dir")
    {
        Description = "Where the node makes its own private directory, gantry-node-$USER (mode 0700), for its socket; the run directory itself is left as it is (default $XDG_RUNTIME_DIR, else /tmp)",
        HelpName = "path",
        DefaultValueFactory = _ => NodeOptions.DefaultRunDirectory(),
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Workers, MinWorkers, MaxWorkers, RunDir, RestartBackoff, RestartBackoffMax, MaxRestarts, RestartWindow, StableAfter, PingInterval, PingTimeout,
            AutoscaleTarget, AutoscaleIdle, AutoscaleInterval, AutoscaleUpWindow, AutoscaleDownWindow, AutoscaleUpCooldown, AutoscaleDownCooldown, WorkerBinary, WorkerArg })
            command.Options.Add(option);
    }

    /// <summary>The node's options, validated. <paramref name="workerArgs"/> are the workers' arguments beyond what the node's
    /// options say to them (<see cref="NodeWorkerArguments"/>: queues, capacity, drain, the node's lease and heartbeat).</summary>
    public NodeOptions Read(Hosting.CommandSettings parse, WorkerOptions worker, IReadOnlyList<string> workerArgs, IReadOnlyList<string> jobTypes)
    {
        var options = new NodeOptions
        {
            Name = worker.Name,
            RunDirectory = CliOptions.FullPath(parse.Get(RunDir), "--run-dir"),
            WorkerCommand = WorkerExecutable(parse.Get(WorkerBinary), exportsTelemetry: Hosting.TelemetrySettings.Resolve(parse.Config) is not null),
            Workers = parse.Get(Workers),
            MinWorkers = parse.Get(MinWorkers),
            MaxWorkers = parse.Get(MaxWorkers),
            Queues = worker.Queues,
            WorkerCapacity = worker.Capacity,
            Capabilities = worker.Capabilities,
            Tags = worker.Tags,
            JobTypes = jobTypes,
            RestartBackoff = parse.Get(RestartBackoff)!.Value,
            RestartBackoffMax = parse.Get(RestartBackoffMax)!.Value,
            MaxRestarts = parse.Get(MaxRestarts),
            RestartWindow = parse.Get(RestartWindow)!.Value,
            StableAfter = parse.Get(StableAfter)!.Value,
            PingInterval = parse.Get(PingInterval)!.Value,
            PingTimeout = parse.Get(PingTimeout)!.Value,
            LeaseDuration = worker.LeaseDuration,
            HeartbeatInterval = worker.HeartbeatInterval,
            DrainTimeout = worker.DrainTimeout,
            CancelGracePeriod = worker.CancelGracePeriod,
            Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions
            {
                Target = parse.Get(AutoscaleTarget),
                Idle = parse.Get(AutoscaleIdle),
                Interval = parse.Get(AutoscaleInterval)!.Value,
                UpWindow = parse.Get(AutoscaleUpWindow)!.Value,
                DownWindow = parse.Get(AutoscaleDownWindow)!.Value,
                UpCooldown = parse.Get(AutoscaleUpCooldown)!.Value,
                DownCooldown = parse.Get(AutoscaleDownCooldown)!.Value,
            },
        };
        options = options with { WorkerArguments = [.. workerArgs, .. parse.Parse.GetValue(WorkerArg) ?? []] };
        options.Validate();
        return options;
    }

    /// <summary>A fraction flag (<c>0.75</c> or <c>75%</c>), from 0 to 1.</summary>
    private static Option<double> Fraction(string name, string description, double defaultValue) => new(name)
    {
        Description = description,
        HelpName = "fraction",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value.Trim() : "";
            var percent = text.EndsWith('%');
            if (double.TryParse(percent ? text[..^1] : text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && (percent ? value / 100 : value) is var fraction and >= 0 and <= 1)
                return fraction;
            r.AddError($"{name}: '{text}' is not a fraction from 0 to 1 (e.g. 0.75 or 75%)");
            return defaultValue;
        },
    };

    /// <summary>The worker-only executable's name (src/Gantry.Cli.Worker).</summary>
    public const string SlimWorker = "gantry-worker";

    /// <summary>
    /// What a node runs its workers with: <paramref name="forced"/> (<c>--worker-binary</c>; missing or not executable is
    /// refused), else <see cref="SlimWorker"/> beside this executable (a Native AOT build, as build-aot.sh makes both), else
    /// this very program (<see cref="GantryExecutable"/>). Each takes the arguments <c>worker …</c>. With telemetry export
    /// configured (<paramref name="exportsTelemetry"/>; the workers read the same file and environment) the slim worker,
    /// which leaves the exporter out, is never chosen, and forcing it is refused.
    /// </summary>
    public static IReadOnlyList<string> WorkerExecutable(string? forced, bool exportsTelemetry = false)
    {
        if (forced is not null)
        {
            var path = CliOptions.FullPath(forced, "--worker-binary");
            if (!File.Exists(path)) throw new InvalidInputException("--worker-binary", $"{forced} does not exist");
            if (!IsExecutable(path)) throw new InvalidInputException("--worker-binary", $"{forced} is not executable (chmod +x)");
            if (exportsTelemetry && Path.GetFileNameWithoutExtension(path) == SlimWorker)
                throw new InvalidInputException("--worker-binary", $"{forced} cannot export the telemetry this configuration sets up (it leaves OpenTelemetry's exporter out): use gantry, or leave --worker-binary out");
            return [path];
        }
        var self = GantryExecutable();
        var beside = self.Count == 1 && !exportsTelemetry ? Path.Combine(Path.GetDirectoryName(self[0])!, SlimWorker) : null;
        return beside is not null && File.Exists(beside) && IsExecutable(beside) ? [beside] : self;
    }

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>This very program: the apphost, or <c>dotnet gantry.dll</c> when run through the host.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000",
        Justification = "Read only under the dotnet host, where the assembly is a file; a Native AOT gantry is its own executable.")]
    public static IReadOnlyList<string> GantryExecutable()
    {
        var path = Environment.ProcessPath ?? throw new GantryException("cannot tell which executable runs gantry, to start workers with it");
        var name = Path.GetFileNameWithoutExtension(path);
        return name == "dotnet" ? [path, typeof(NodeCliOptions).Assembly.Location] : [path];
    }
}
