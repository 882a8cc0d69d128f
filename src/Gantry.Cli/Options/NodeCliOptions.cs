using System.CommandLine;
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
    /// <summary>Extra arguments for every worker, for diagnosis (e.g. --worker-arg=--log-level=Debug).</summary>
    public Option<string[]> WorkerArg { get; } = new("--worker-arg") { Hidden = true, AllowMultipleArgumentsPerToken = false };

    /// <summary>The default run directory: $XDG_RUNTIME_DIR, else the temporary folder.</summary>
    public static Option<string> RunDirectory() => new("--run-dir")
    {
        Description = "Where the node makes its own private directory, gantry-node-$USER (mode 0700), for its socket; the run directory itself is left as it is (default $XDG_RUNTIME_DIR, else /tmp)",
        HelpName = "path",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg ? xdg : Path.GetTempPath().TrimEnd('/'),
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Workers, MinWorkers, MaxWorkers, RunDir, RestartBackoff, RestartBackoffMax, MaxRestarts, RestartWindow, StableAfter, PingInterval, PingTimeout, WorkerArg })
            command.Options.Add(option);
    }

    /// <summary>The node's options, validated; <paramref name="workerArgs"/> gives its workers' arguments from them (their lease and heartbeat are the node's).</summary>
    public NodeOptions Read(ParseResult parse, WorkerOptions worker, Func<NodeOptions, IReadOnlyList<string>> workerArgs, IReadOnlyList<string> jobTypes)
    {
        var options = new NodeOptions
        {
            RunDirectory = Path.GetFullPath(parse.GetValue(RunDir)!),
            WorkerCommand = GantryExecutable(),
            Workers = parse.GetValue(Workers),
            MinWorkers = parse.GetValue(MinWorkers),
            MaxWorkers = parse.GetValue(MaxWorkers),
            Queues = worker.Queues,
            WorkerCapacity = worker.Capacity,
            Capabilities = worker.Capabilities,
            Tags = worker.Tags,
            JobTypes = jobTypes,
            RestartBackoff = parse.GetValue(RestartBackoff)!.Value,
            RestartBackoffMax = parse.GetValue(RestartBackoffMax)!.Value,
            MaxRestarts = parse.GetValue(MaxRestarts),
            RestartWindow = parse.GetValue(RestartWindow)!.Value,
            StableAfter = parse.GetValue(StableAfter)!.Value,
            PingInterval = parse.GetValue(PingInterval)!.Value,
            PingTimeout = parse.GetValue(PingTimeout)!.Value,
            LeaseDuration = worker.LeaseDuration,
            HeartbeatInterval = worker.HeartbeatInterval,
            DrainTimeout = worker.DrainTimeout,
            CancelGracePeriod = worker.CancelGracePeriod,
        };
        options = options with { WorkerArguments = [.. workerArgs(options), .. parse.GetValue(WorkerArg) ?? []] };
        options.Validate();
        return options;
    }

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
