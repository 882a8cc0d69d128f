using Gantry.Node;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Commands;

/// <summary>
/// <c>gantry node</c>: one supervisor per machine. It spawns <c>--workers</c> worker processes
/// (between <c>--min-workers</c> and <c>--max-workers</c> when autoscaling), serves them over a Unix
/// socket and speaks for them to the coordinator. <c>gantry node status</c> asks it about them. The node is
/// hosted as an application hosts one (<c>AddGantry(…).AddNode()</c>), through <see cref="ProcessHost"/>.
/// </summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var coordinator = new CoordinatorLinkOptions();
        var worker = new WorkerCliOptions(queuesDefault: "default:4", capacityFlag: "--worker-capacity");
        var flags = new NodeCliOptions();
        var config = CliOptions.Config();
        var logLevel = CliOptions.LogLevel();
        var command = new Command("node", "Run a node: spawn and supervise worker processes on this machine, serve them over a Unix socket, and speak for them to the store or server (Ctrl-C to drain and stop)");
        coordinator.AddTo(command);
        worker.AddTo(command);
        flags.AddTo(command);
        var metricsListen = CliOptions.MetricsListen("this node's managed workers (by state; per worker its restarts, jobs run and slots) and its own instruments");
        command.Options.Add(metricsListen);
        command.Options.Add(config);
        command.Options.Add(logLevel);
        command.Subcommands.Add(NodeStatusCommand.Create());
        command.SetHandler(async (parse, ct) =>
        {
            var configPath = parse.GetValue(config);
            var settings = GantryConfig.Load(configPath);
            var s = CommandSettings.Load(parse, settings);
            var workerOptions = s.Checked(() => worker.Read(s));
            var level = s.Get(logLevel);
            var options = s.Checked(() => flags.Read(s, workerOptions, WorkerArguments(workerOptions, configPath, level), settings.KnownJobTypes));
            var metrics = ApiHosting.Parse(s.Get(metricsListen)!, Environment.GetEnvironmentVariable("GANTRY_TOKENS"), settings.Tokens, "--metrics-listen");
            var server = s.Get(coordinator.Server);
            using var host = ProcessHost.Build(server is null ? coordinator.Store.Resolve(s) : null, workerOptions: null, maintenance: null, settings, level,
                server: server is null ? null : (server, s.Get(coordinator.Token)), metrics: metrics, node: options);
            await host.StartAsync(ct).ConfigureAwait(false);
            var node = host.Services.GetRequiredService<GantryNode>();
            var running = node.Options;
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} node running
                  node       {node.Id}{(running.Name is null ? "" : $" \"{running.Name}\"")}
                  link       {node.Status().Link}{(metrics is null ? "" : $"\n  metrics    {ApiAddress.Of(host)}/metrics")}
                  workers    {running.Workers} (min {running.EffectiveMinWorkers}, max {running.EffectiveMaxWorkers}), each {string.Join(", ", running.Queues.Select(q => $"{q.Key}:{q.Value}"))}; capacity {running.EffectiveWorkerCapacity}
                  socket     {running.SocketPath}
                Press Ctrl-C to stop.
                """);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry node stopped.");
            return HostOutcome.ExitCode(host);
        });
        return command;
    }

    /// <summary>What each worker is started with beyond what the node's options say to it (<see cref="NodeWorkerArguments"/>):
    /// the worker flags a node has no use for itself, passed on.</summary>
    private static List<string> WorkerArguments(Gantry.Worker.WorkerOptions worker, string? configPath, LogLevel level)
    {
        var args = new List<string>
        {
            "--poll-interval", $"{(long)worker.PollInterval.TotalMilliseconds}ms",
            "--log-level", level.ToString(),
        };
        if (configPath is not null) args.AddRange(["--config", Path.GetFullPath(configPath)]);
        return args;
    }
}
