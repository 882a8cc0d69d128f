using Gantry.Worker.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry worker</c>: only a worker, for the distributed shape (the coordinator runs in <c>gantry server</c>).</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var coordinator = new CoordinatorLinkOptions();
        var worker = new WorkerCliOptions();
        var config = CliOptions.Config();
        var logLevel = CliOptions.LogLevel();
        // Set by a node on the workers it spawns (managed mode); not for people.
        var nodeSocket = new Option<string?>("--node-socket") { Hidden = true };
        var localId = new Option<int>("--local-id") { Hidden = true };
        var nodePid = new Option<int>("--node-pid") { Hidden = true };

        var command = new Command("worker", "Run a worker: claim jobs from the store (or a server's worker protocol) and run them (Ctrl-C to drain and stop)")
        {
            nodeSocket, localId, nodePid,
        };
        var metricsListen = CliOptions.MetricsListen("this worker's own instruments");
        coordinator.AddTo(command);
        worker.AddTo(command);
        command.Options.Add(metricsListen);
        command.Options.Add(config);
        command.Options.Add(logLevel);
        command.SetHandler(async (parse, ct) =>
        {
            var settings = GantryConfig.Load(parse.GetValue(config));
            // A node's worker takes its settings from the node's command line only: the node read the file and the environment.
            var s = CommandSettings.Load(parse, settings, layers: parse.GetValue(nodeSocket) is null);
            var workerOptions = s.Checked(() => worker.Read(s));
            if (parse.GetValue(nodeSocket) is { } socket)
                return await ManagedWorkerHost.RunAsync(socket, parse.GetValue(localId), parse.GetValue(nodePid), workerOptions, settings, s.Get(logLevel), ct).ConfigureAwait(false);

            if (!string.Equals(s.Get(metricsListen), "off", StringComparison.OrdinalIgnoreCase))
                WebHostFeature.Require("--metrics-listen", "serving /metrics over HTTP");
            var metrics = ApiHosting.Parse(s.Get(metricsListen)!, Environment.GetEnvironmentVariable("GANTRY_TOKENS"), settings.Tokens, "--metrics-listen");
            var server = s.Get(coordinator.Server);
            using var host = ProcessHost.Build(server is null ? coordinator.Store.Resolve(s) : null, workerOptions, maintenance: null, settings, s.Get(logLevel),
                server: server is null ? null : (server, s.Get(coordinator.Token)), metrics: metrics);
            await host.StartAsync(ct).ConfigureAwait(false);
            var running = host.Services.GetRequiredService<GantryWorker>();
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} worker running
                  link       {ProcessHost.LinkOf(host)}{(metrics is null ? "" : $"\n  metrics    {ApiAddress.Of(host)}/metrics")}
                {Banner.Worker(running, settings)}
                Press Ctrl-C to stop.
                """);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry worker stopped.");
            return HostOutcome.ExitCode(host);
        });
        return command;
    }
}
