using System.CommandLine;
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
    public Option<FlagDuration?> Grace { get; } = CliOptions.Duration("--cancel-grace", "How long a cancelled handler may take to stop before it is abandoned", WorkerOptions.CancelGracePeriodDefault);
    public Option<FlagDuration?> Lease { get; } = CliOptions.Duration("--lease-duration", "How long a claimed job stays this worker's without a heartbeat", WorkerOptions.LeaseDurationDefault, least: TimeSpan.FromSeconds(1));
    public Option<FlagDuration?> Heartbeat { get; } = CliOptions.Duration("--heartbeat-interval", "How often the worker renews its leases (default: from the lease, a third of --lease-duration less 3s, at most 5s, at least 250ms; a node: a quarter)", least: CliOptions.LeastLoopInterval, why: "a shorter interval keeps a core busy");
    public Option<FlagDuration?> Poll { get; } = CliOptions.Interval("--poll-interval", "How often an idle worker looks for jobs submitted by other processes", WorkerOptions.PollIntervalDefault);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Queues, Capacity, Capabilities, Tags, Drain, Grace, Lease, Heartbeat, Poll })
            command.Options.Add(option);
    }

    /// <summary>The worker's options, validated.</summary>
    public WorkerOptions Read(ParseResult parse)
    {
        var options = new WorkerOptions
        {
            Queues = parse.GetValue(Queues)!.Queues,
            Capacity = parse.GetValue(Capacity),
            Capabilities = parse.GetValue(Capabilities)!,
            Tags = parse.GetValue(Tags)!,
            DrainTimeout = parse.GetValue(Drain)!.Value,
            CancelGracePeriod = parse.GetValue(Grace)!.Value,
            LeaseDuration = parse.GetValue(Lease)!.Value,
            HeartbeatInterval = parse.GetValue(Heartbeat)?.Value,
            PollInterval = parse.GetValue(Poll)!.Value,
        };
        options.Validate();
        return options;
    }
}
