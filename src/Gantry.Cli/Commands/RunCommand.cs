using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
using Gantry.Server.Maintenance;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry run</c>: everything in one process on one store — coordinator services and a worker.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var location = CliOptions.StoreLocation();
        var queues = CliOptions.Queues("default:10");
        var capacity = new Option<int?>("--capacity") { Description = "Most jobs run at once over all queues (default: the sum of the queues' concurrency)", HelpName = "n" };
        var capabilities = CliOptions.List("--capabilities", "Capabilities this worker advertises, e.g. gpu,big-mem");
        var tags = CliOptions.Tags("--tags", "Tags of this worker, e.g. zone=a");
        var drain = CliOptions.Duration("--drain-timeout", "On shutdown, how long running jobs may finish before they are requeued", WorkerOptions.DrainTimeoutDefault);
        var grace = CliOptions.Duration("--cancel-grace", "How long a cancelled handler may take to stop before it is abandoned", WorkerOptions.CancelGracePeriodDefault);
        var lease = CliOptions.Duration("--lease-duration", "How long a claimed job stays this worker's without a heartbeat", WorkerOptions.LeaseDurationDefault);
        var heartbeat = CliOptions.Duration("--heartbeat-interval", "How often the worker renews its leases", WorkerOptions.HeartbeatIntervalDefault);
        var poll = CliOptions.Duration("--poll-interval", "How often an idle worker looks for jobs submitted by other processes", WorkerOptions.PollIntervalDefault);
        var rescue = CliOptions.Duration("--rescue-interval", "How often expired leases are looked for", MaintenanceOptions.RescuerIntervalDefault);
        var retention = CliOptions.Duration("--retention", "How long finished jobs are kept", MaintenanceOptions.RetentionDefault);
        var config = CliOptions.Config();
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least level logged (Trace, Debug, Information, Warning, Error)", DefaultValueFactory = _ => LogLevel.Information };

        var command = new Command("run", "Run Gantry in one process: coordinator services and a worker on one store (Ctrl-C to stop)")
        {
            location, queues, capacity, capabilities, tags, drain, grace, lease, heartbeat, poll, rescue, retention, config, logLevel,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var workerOptions = new WorkerOptions
            {
                Queues = parse.GetValue(queues)!,
                Capacity = parse.GetValue(capacity),
                Capabilities = parse.GetValue(capabilities)!,
                Tags = parse.GetValue(tags)!,
                DrainTimeout = parse.GetValue(drain)!.Value,
                CancelGracePeriod = parse.GetValue(grace)!.Value,
                LeaseDuration = parse.GetValue(lease)!.Value,
                HeartbeatInterval = parse.GetValue(heartbeat)!.Value,
                PollInterval = parse.GetValue(poll)!.Value,
            };
            workerOptions.Validate();
            var maintenance = new MaintenanceOptions { RescuerInterval = parse.GetValue(rescue)!.Value, Retention = parse.GetValue(retention)!.Value };

            var settings = GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            using var host = AllInOneHost.Build(store, workerOptions, maintenance, settings, parse.GetValue(logLevel));
            await host.StartAsync(ct).ConfigureAwait(false);
            var worker = host.Services.GetRequiredService<GantryWorker>();
            Console.Out.WriteLine($"""
                Gantry {typeof(RunCommand).Assembly.GetName().Version?.ToString(3)} running
                  store      {store.Description}
                  worker     {worker.Id}
                  queues     {string.Join(", ", workerOptions.Queues.Select(q => $"{q.Key} (concurrency {q.Value})"))}; capacity {workerOptions.EffectiveCapacity}
                  job types  {string.Join(", ", worker.JobTypes)}{Isolation(settings)}
                Press Ctrl-C to stop.
                """);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry stopped.");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>How process handlers are isolated, when there are any.</summary>
    private static string Isolation(GantryConfig settings)
    {
        if (settings.Handlers.Count == 0) return "";
        var warning = Gantry.Worker.Isolation.ProcessIsolation.IsDegraded ? "\n  WARNING    no cgroup can be made here: process handlers run with rlimits only" : "";
        return $"\n  config     {settings.Source} ({settings.Handlers.Count} process handler(s))\n  isolation  {Gantry.Worker.Isolation.ProcessIsolation.Description}{warning}";
    }
}
