using Gantry.Worker;

namespace Gantry.Cli.Options;

/// <summary>The flags of a process that runs a worker (<c>gantry run</c>, <c>gantry worker</c>), defined once.</summary>
/// <remarks>A node passes them on to each of its workers: there <c>--queues</c> is per worker and the capacity flag is <c>--worker-capacity</c>.</remarks>
internal sealed class WorkerCliOptions(string queuesDefault = "default:10", string capacityFlag = "--capacity")
{
    public Option<QueueSpec> Queues { get; } = CliOptions.Queues(queuesDefault);
    public Option<int?> Capacity { get; } = CliOptions.OptionalCount(capacityFlag, "Most jobs run at once over all queues (default: the sum of the queues' concurrency)", least: 1);
    public Option<IReadOnlyList<string>> Capabilities { get; } = CliOptions.List("--capabilities", "Capabilities this worker advertises, e.g. gpu,big-mem");
    public Option<IReadOnlyDictionary<string, string>> Tags { get; } = CliOptions.Tags("--tags", "Tags of this worker, e.g. zone=a");
    public Option<FlagDuration?> Drain { get; } = CliOptions.Duration("--drain-timeout", "On shutdown, how long running jobs may finish before they are requeued", WorkerOptions.DrainTimeoutDefault);
    public Option<FlagDuration?> Grace { get; } = CliOptions.Duration("--cancel-grace-period", "How long a cancelled handler may take to stop before it is abandoned", WorkerOptions.CancelGracePeriodDefault)
        .WithAlias("--cancel-grace");
    public Option<FlagDuration?> Lease { get; } = CliOptions.Duration("--lease-duration", "How long a claimed job stays this worker's without a heartbeat", WorkerOptions.LeaseDurationDefault, least: TimeSpan.FromSeconds(1));
    public Option<FlagDuration?> Heartbeat { get; } = CliOptions.Duration("--heartbeat-interval", "How often the worker renews its leases (default: from the lease, a third of --lease-duration less 3s, at most 5s, at least 250ms; a node: a quarter)", least: CliOptions.LeastLoopInterval, why: "a shorter interval keeps a core busy");
    public Option<string?> Name { get; } = new("--name")
    {
        Description = "A name for people, shown beside the id in every listing (gantry workers, gantry node status, the API)",
        HelpName = "name",
    };
    public Option<FlagDuration?> Poll { get; } = CliOptions.Interval("--poll-interval", "How often an idle worker looks for jobs submitted by other processes", WorkerOptions.PollIntervalDefault);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Name, Queues, Capacity, Capabilities, Tags, Drain, Grace, Lease, Heartbeat, Poll })
            command.Options.Add(option);
    }

    /// <summary>The worker's options from the command's settings (file, environment, flags), validated.</summary>
    public WorkerOptions Read(Hosting.CommandSettings parse)
    {
        var options = new WorkerOptions
        {
            Name = parse.Get(Name) is { Length: > 0 } name ? Gantry.Protocol.Wire.WireValidation.Label(name.Trim(), "--name") : null,
            Queues = parse.Get(Queues)!.Queues,
            Capacity = parse.Get(Capacity),
            Capabilities = parse.Get(Capabilities)!,
            Tags = parse.Get(Tags)!,
            DrainTimeout = parse.Get(Drain)!.Value,
            CancelGracePeriod = parse.Get(Grace)!.Value,
            LeaseDuration = parse.Get(Lease)!.Value,
            HeartbeatInterval = parse.Get(Heartbeat)?.Value,
            PollInterval = parse.Get(Poll)!.Value,
        };
        options.Validate();
        return options;
    }
}
