using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
using Gantry.Jobs;
using Gantry.Node;
using Gantry.Worker.Handlers.BuiltIn;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Commands;

/// <summary>
/// <c>gantry node</c>: one supervisor per machine. It spawns <c>--workers</c> worker processes
/// (between <c>--min-workers</c> and <c>--max-workers</c> when autoscaling), serves them over a Unix
/// socket and speaks for them to the coordinator. <c>gantry node status</c> asks it about them.
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
            var options = s.Checked(() => flags.Read(s, workerOptions, node => WorkerArguments(s, worker, node, configPath, level), settings.KnownJobTypes));
            var metrics = ApiHosting.Parse(s.Get(metricsListen)!, Environment.GetEnvironmentVariable("GANTRY_TOKENS"), settings.Tokens, "--metrics-listen");

            await using var link = await coordinator.OpenAsync(s, ct).ConfigureAwait(false);
            using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(level).AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }));
            Func<CancellationToken, Task<long>>? backlog = link.Store is { } store
                ? async c => (await store.QueueBacklogAsync(c).ConfigureAwait(false)).Where(q => options.Queues.ContainsKey(q.Key)).Sum(q => q.Value)
                : null;
            await using var node = new GantryNode(link.Link, options, loggers, backlog: backlog);

            // The first signal drains the workers; a second stops at once: they give their jobs back now, checkpoints kept.
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var signals = 0;
            void OnSignal(PosixSignalContext c)
            {
                c.Cancel = true;
                if (Interlocked.Increment(ref signals) == 1)
                {
                    Console.Error.WriteLine("gantry: stopping; the workers' running jobs may finish within the drain timeout. Press Ctrl-C again to stop now: they are requeued at once, their checkpoints kept.");
                    stop.TrySetResult();
                    return;
                }
                Console.Error.WriteLine("gantry: stopping now: running jobs are requeued");
                node.StopNow();
            }
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            await node.StartAsync(ct).ConfigureAwait(false);
            await using var metricsHost = metrics is null ? null : await NodeMetricsHost.StartAsync(metrics, node, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} node running
                  node       {node.Id}{(options.Name is null ? "" : $" \"{options.Name}\"")}
                  link       {link.Description}{(metricsHost is null ? "" : $"\n  metrics    {ApiAddress.Of(metricsHost)}/metrics")}
                  workers    {options.Workers} (min {options.EffectiveMinWorkers}, max {options.EffectiveMaxWorkers}), each {string.Join(", ", options.Queues.Select(q => $"{q.Key}:{q.Value}"))}; capacity {options.EffectiveWorkerCapacity}
                  socket     {options.SocketPath}
                Press Ctrl-C to stop.
                """);
            await Task.WhenAny(stop.Task, node.Drained).ConfigureAwait(false);
            await node.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (metricsHost is not null) await metricsHost.StopAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry node stopped.");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>What each worker is started with: the node's worker flags, passed on, and the node's lease and heartbeat (derived from the lease when not given).</summary>
    private static List<string> WorkerArguments(CommandSettings parse, WorkerCliOptions worker, NodeOptions node, string? configPath, LogLevel level)
    {
        static string Ms(TimeSpan? t) => $"{(long)t!.Value.TotalMilliseconds}ms";
        var args = new List<string>
        {
            "--queues", parse.Get(worker.Queues)!.ToString(),
            "--drain-timeout", Ms(parse.Get(worker.Drain)),
            "--cancel-grace-period", Ms(parse.Get(worker.Grace)),
            "--lease-duration", Ms(node.LeaseDuration),
            "--heartbeat-interval", Ms(node.EffectiveHeartbeatInterval),
            "--poll-interval", Ms(parse.Get(worker.Poll)),
            "--log-level", level.ToString(),
        };
        if (parse.Get(worker.Capacity) is { } capacity) args.AddRange(["--capacity", capacity.ToString(CultureInfo.InvariantCulture)]);
        if (parse.Get(worker.Capabilities) is { Count: > 0 } caps) args.AddRange(["--capabilities", string.Join(",", caps)]);
        if (configPath is not null) args.AddRange(["--config", Path.GetFullPath(configPath)]);
        return args;
    }
}
