using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
using Gantry.Worker.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry worker</c>: only a worker, for the distributed shape (the coordinator runs in <c>gantry server</c>).</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var location = CliOptions.StoreLocation();
        var worker = new WorkerCliOptions();
        var config = CliOptions.Config();
        var logLevel = CliOptions.LogLevel();

        var command = new Command("worker", "Run a worker: claim jobs from the store and run them (Ctrl-C to drain and stop)") { location };
        worker.AddTo(command);
        command.Options.Add(config);
        command.Options.Add(logLevel);
        command.SetHandler(async (parse, ct) =>
        {
            var workerOptions = worker.Read(parse);
            var settings = GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            using var host = AllInOneHost.Build(store, workerOptions, maintenance: null, settings, parse.GetValue(logLevel));
            await host.StartAsync(ct).ConfigureAwait(false);
            var running = host.Services.GetRequiredService<GantryWorker>();
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} worker running
                  store      {store.Description}
                {Banner.Worker(running, settings)}
                Press Ctrl-C to stop.
                """);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry worker stopped.");
            return Cli.Ok;
        });
        return command;
    }
}
