using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
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
        var listen = CliOptions.Listen();
        var allowedHosts = CliOptions.AllowedHosts();
        var corsOrigins = CliOptions.CorsOrigins();
        var dashboard = CliOptions.Dashboard();
        var hidePayloads = CliOptions.DashboardHidePayloads();
        var intake = new IntakeCliOptions();

        var command = new Command("run", "Run Gantry in one process: coordinator services and a worker on one store (Ctrl-C to stop)") { location };
        worker.AddTo(command);
        maintenance.AddTo(command);
        intake.AddTo(command);
        command.Options.Add(config);
        command.Options.Add(logLevel);
        command.Options.Add(listen);
        command.Options.Add(allowedHosts);
        command.Options.Add(corsOrigins);
        command.Options.Add(dashboard);
        command.Options.Add(hidePayloads);
        command.SetHandler(async (parse, ct) =>
        {
            var settings = GantryConfig.Load(parse.GetValue(config));
            var s = CommandSettings.Load(parse, settings);
            var workerOptions = s.Checked(() => worker.Read(s));
            var maintenanceOptions = s.Checked(() => maintenance.Read(s));
            var jobsDir = s.Checked(() => intake.Read(s));
            var api = ApiHosting.Parse(s.Get(listen)!, Environment.GetEnvironmentVariable("GANTRY_TOKENS"), settings.Tokens)
                ?.WithBrowserAccess(s.Get(allowedHosts), s.Get(corsOrigins), settings)
                .WithDashboard(s.Get(dashboard), s.Get(hidePayloads), settings);
            using var host = ProcessHost.Build(location.Resolve(s), workerOptions, maintenanceOptions, settings, s.Get(logLevel), api, jobsDir: jobsDir);
            await host.StartAsync(ct).ConfigureAwait(false);
            var running = host.Services.GetRequiredService<GantryWorker>();
            var store = host.Services.GetRequiredService<Gantry.Storage.IJobStore>();
            Console.Out.WriteLine($"""
                Gantry {Banner.Version} running
                  store      {store.Description}
                  api        {ApiAddress.Of(host) ?? "off"}{(api is { Dashboard: true } && ApiAddress.Of(host) is { } url ? $"\n  dashboard  {url}/" : "")}{(jobsDir is null ? "" : $"\n  jobs dir   {Path.GetFullPath(jobsDir.Path)} (results in {Path.GetFullPath(jobsDir.Results)})")}
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
