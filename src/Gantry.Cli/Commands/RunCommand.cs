using Gantry.Worker.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry run</c>: everything in one process on one store — coordinator services and a worker.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var location = CliOptions.StoreLocation();
        var worker = new WorkerCliOptions();
        var maintenance = new MaintenanceCliOptions();
        var config = CliOptions.Config();
        var logLevel = CliOptions.LogLevel();
        var api = new ApiCliOptions();
        var intake = new IntakeCliOptions();

        var command = new Command("run", "Run Gantry in one process: coordinator services and a worker on one store (Ctrl-C to stop)") { location };
        worker.AddTo(command);
        maintenance.AddTo(command);
        intake.AddTo(command);
        command.Options.Add(config);
        command.Options.Add(logLevel);
        api.AddTo(command);
        command.SetHandler(async (parse, ct) =>
        {
            var settings = GantryConfig.Load(parse.GetValue(config));
            var s = CommandSettings.Load(parse, settings);
            var workerOptions = s.Checked(() => worker.Read(s));
            var maintenanceOptions = s.Checked(() => maintenance.Read(s));
            var jobsDir = s.Checked(() => intake.Read(s));
            var served = api.Read(s, settings);
            using var host = ProcessHost.Build(location.Resolve(s), workerOptions, maintenanceOptions, settings, s.Get(logLevel), served, jobsDir: jobsDir);
            await host.StartAsync(ct).ConfigureAwait(false);
            var running = host.Services.GetRequiredService<GantryWorker>();
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} running
                {Banner.Coordinator(host, served, jobsDir)}
                {Banner.Worker(running, settings)}
                Press Ctrl-C to stop.
                """);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry stopped.");
            return HostOutcome.ExitCode(host);
        });
        return command;
    }
}
