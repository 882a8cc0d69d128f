using Gantry.Server.Maintenance;

namespace Gantry.Cli.Options;

/// <summary>The flags of a process that may run the maintenance services (<c>gantry run</c>, <c>gantry server</c>), defined once.</summary>
internal sealed class MaintenanceCliOptions
{
    public Option<FlagDuration?> Rescue { get; } = CliOptions.Interval("--rescuer-interval", "How often expired leases are looked for", MaintenanceOptions.RescuerIntervalDefault)
        .WithAlias("--rescue-interval");
    public Option<FlagDuration?> Retention { get; } = CliOptions.Duration("--retention", "How long finished jobs are kept", MaintenanceOptions.RetentionDefault);
    public Option<FlagDuration?> DeadWorker { get; } = CliOptions.Duration("--dead-worker-timeout", "How long a worker may go without a heartbeat before it is marked dead and its jobs are rescued", MaintenanceOptions.DeadWorkerTimeoutDefault, least: TimeSpan.FromSeconds(1));

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Rescue, Retention, DeadWorker })
            command.Options.Add(option);
    }

    public MaintenanceOptions Read(Hosting.CommandSettings parse)
    {
        var options = new MaintenanceOptions
        {
            RescuerInterval = parse.Get(Rescue)!.Value,
            Retention = parse.Get(Retention)!.Value,
            DeadWorkerTimeout = parse.Get(DeadWorker)!.Value,
        };
        options.Validate();
        return options;
    }
}
