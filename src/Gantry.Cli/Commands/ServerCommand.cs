using Gantry.Server.Leadership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry server</c>: the coordinator's services without a worker. Any number may run on one
/// store: one is elected to run maintenance, the others stand by and take over when it dies.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var location = CliOptions.StoreLocation();
        var maintenance = new MaintenanceCliOptions();
        var logLevel = CliOptions.LogLevel();
        var api = new ApiCliOptions();
        var intake = new IntakeCliOptions();
        var config = CliOptions.Config();

        var command = new Command("server", "Run the coordinator: maintenance services (scheduler, rescuer, cleaner, dead-worker detector), leader-elected (Ctrl-C to stop)") { location };
        maintenance.AddTo(command);
        intake.AddTo(command);
        command.Options.Add(logLevel);
        api.AddTo(command);
        command.Options.Add(config);
        command.SetHandler(async (parse, ct) =>
        {
            // The server runs no handler, but its API knows the configured job types as valid.
            var settings = GantryConfig.Load(parse.GetValue(config));
            var s = CommandSettings.Load(parse, settings);
            var maintenanceOptions = s.Checked(() => maintenance.Read(s));
            var jobsDir = s.Checked(() => intake.Read(s));
            var served = api.Read(s, settings);
            using var host = ProcessHost.Build(location.Resolve(s), workerOptions: null, maintenanceOptions, settings, s.Get(logLevel), served, jobsDir: jobsDir);
            await host.StartAsync(ct).ConfigureAwait(false);
            var leader = host.Services.GetRequiredService<LeaderHost>();
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} server running
                {Banner.Coordinator(host, served, jobsDir)}
                  holder     {leader.HolderId} (maintenance runs while this process is the elected leader)
                Press Ctrl-C to stop.
                """);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            Console.Out.WriteLine("Gantry server stopped.");
            return HostOutcome.ExitCode(host);
        });
        return command;
    }
}
