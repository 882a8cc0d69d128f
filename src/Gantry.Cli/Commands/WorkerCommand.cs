using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
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
        var server = CliOptions.Server("Reach a Gantry server over HTTP instead of the store (the worker then holds no database credentials), e.g. http://host:5080");
        var token = CliOptions.Token("The worker token for --server (default GANTRY_TOKEN)");

        var command = new Command("worker", "Run a worker: claim jobs from the store (or a server's worker protocol) and run them (Ctrl-C to drain and stop)") { location, server, token };
        worker.AddTo(command);
        command.Options.Add(config);
        command.Options.Add(logLevel);
        command.SetHandler(async (parse, ct) =>
        {
            var workerOptions = worker.Read(parse);
            var settings = GantryConfig.Load(parse.GetValue(config));
            using var http = parse.GetValue(server) is { } url ? new HttpWorkerLink(url, parse.GetValue(token)) : null;
            await using var store = http is null ? await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false) : null;
            using var host = AllInOneHost.Build(store, workerOptions, maintenance: null, settings, parse.GetValue(logLevel), link: http);
            await host.StartAsync(ct).ConfigureAwait(false);
            var running = host.Services.GetRequiredService<GantryWorker>();
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} worker running
                  link       {(http is null ? store!.Description : http.Description)}
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
