using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Composes a Gantry process on one store: a worker (<c>gantry worker</c>), the maintenance services under
/// leader election (<c>gantry server</c>), or both (<c>gantry run</c>). Maintenance always runs under a
/// <see cref="Gantry.Server.Leadership.LeaderHost"/>, so any number of such processes share one store and one of them runs it.
/// </summary>
internal static class AllInOneHost
{
    /// <param name="store">The store; null for a worker that reaches the coordinator through <paramref name="link"/> only.</param>
    /// <param name="link">The worker's link when it is not the store (a server over HTTP).</param>
    public static IHost Build(IJobStore? store, WorkerOptions? workerOptions, MaintenanceOptions? maintenance, GantryConfig config, LogLevel logLevel,
        ApiHosting? api = null, Gantry.Worker.Links.IWorkerLink? link = null, Gantry.Server.Intake.JobsDirectoryOptions? jobsDir = null,
        ApiHosting? metrics = null)
    {
        // One process, its own worker and dead-worker detector: a heartbeat too seldom for the timeout is refused at start.
        if (workerOptions is not null && maintenance is not null)
            HeartbeatRule.Check(workerOptions.EffectiveHeartbeatInterval, maintenance.DeadWorkerTimeout, "--heartbeat-interval");
        // With the API (or a worker's metrics) the host is a web application (Kestrel); without, a plain generic host.
        var listen = api ?? metrics;
        WebApplicationBuilder? web = listen is null ? null : WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        IHostApplicationBuilder builder = web ?? (IHostApplicationBuilder)Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (web is not null && api is null)
        {
            web.WebHost.UseUrls(metrics!.Url);
            web.Services.AddGantryWorkerMetrics(metrics.MetricsOptions());
        }
        else if (web is not null)
        {
            web.WebHost.UseUrls(api!.Url);
            web.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = ApiOptions.MaxRequestBytesDefault);
            web.Services.AddGantryApi(api.ApiOptions(config.KnownJobTypes) with { DeadWorkerTimeout = maintenance?.DeadWorkerTimeout, Limits = config.JobLimits });
        }
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(logLevel);
        // ASP.NET Core logs about six lines per request at Information: an idle HTTP worker's long polls would fill the
        // log. Requests are Debug; its warnings and errors still show.
        if (logLevel > LogLevel.Debug) builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.UseUtcTimestamp = false;
        });
        if (store is not null) builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(TimeProvider.System);
        if (maintenance is not null) builder.Services.AddGantryLeaderElectedMaintenance(maintenance).AddGantryAlerts(config.Alerts);
        // A coordinator holds the file's schedules and retention: reconciled as it starts (every coordinator, idempotently).
        if (maintenance is not null && config.Source is not null)
        {
            builder.Services.AddGantrySchedules(Gantry.Storage.ScheduleOrigins.File, config.Schedules);
            foreach (var retention in config.Retention) builder.Services.AddGantryQueueRetention(retention);
        }
        if (jobsDir is not null) builder.Services.AddGantryJobsDirectory(jobsDir with { KnownJobTypes = config.KnownJobTypes, Limits = jobsDir.Limits with { TypeLimits = config.TypeLimits } });
        if (workerOptions is not null)
        {
            builder.Services.AddGantryBuiltInHandlers();
            foreach (var (type, spec) in config.Handlers) builder.Services.AddGantryProcessHandler(type, spec);
            if (link is not null) builder.Services.AddGantryWorker(_ => link, workerOptions);
            else builder.Services.AddGantryWorker(workerOptions);
        }
        builder.Services.Configure<HostOptions>(o =>
        {
            // Room to drain, then to give abandoned handlers their grace period and write the last reports.
            o.ShutdownTimeout = (workerOptions is null ? TimeSpan.Zero : workerOptions.DrainTimeout + workerOptions.CancelGracePeriod) + TimeSpan.FromSeconds(15);
        });
        builder.Services.AddSingleton<IHostLifetime, SignalLifetime>();
        var telemetry = TelemetrySettings.Resolve(config);
        // A factory registration, so that the host disposes it (flushing the last export) when it stops.
        var serviceName = maintenance is null ? "gantry-worker" : workerOptions is null ? "gantry-server" : "gantry";
        if (telemetry is not null) builder.Services.AddSingleton(_ => telemetry.Start(serviceName)).AddSingleton(_ => telemetry.StartTracing(serviceName));
        IHost host;
        if (web is null)
        {
            host = ((HostApplicationBuilder)builder).Build();
        }
        else
        {
            var app = web.Build();
            if (api is not null) app.MapGantryApi();
            else if (app.Services.GetService<Gantry.Worker.Execution.GantryWorker>() is { } worker)
                app.MapGantryWorkerMetrics(sb => Gantry.Server.Telemetry.WorkerGauges.WriteTo(sb, worker.Id, worker.RunningCount, worker.Options.EffectiveCapacity,
                    worker.IsPaused, worker.Status is "draining" or "stopped", worker.HeldLeases, worker.HeartbeatAge), () => worker.IsReady);
            else app.MapGantryWorkerMetrics();
            host = app;
        }
        if (telemetry is not null)
        {
            host.Services.GetRequiredService<OpenTelemetry.Metrics.MeterProvider>();
            host.Services.GetRequiredService<OpenTelemetry.Trace.TracerProvider>();
        }
        return host;
    }
}

/// <summary>
/// Stops the host on SIGINT, SIGTERM or SIGQUIT, without the console lifetime's chatter: the first signal drains (running
/// jobs may finish within the drain timeout), a second one stops at once (they are requeued now, their checkpoints kept).
/// </summary>
internal sealed class SignalLifetime(IHostApplicationLifetime lifetime, IServiceProvider services) : IHostLifetime, IDisposable
{
    private readonly List<System.Runtime.InteropServices.PosixSignalRegistration> _registrations = [];
    private int _signals;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGQUIT })
        {
            _registrations.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // We exit on our own, after draining.
                var worker = services.GetService<Gantry.Worker.Execution.GantryWorker>();
                if (Interlocked.Increment(ref _signals) == 1)
                {
                    if (worker is not null)
                        Console.Error.WriteLine($"gantry: stopping; running jobs may finish within the drain timeout. Press Ctrl-C again to stop now: they are requeued at once, their checkpoints kept.");
                    lifetime.StopApplication();
                }
                else if (worker is not null)
                {
                    Console.Error.WriteLine("gantry: stopping now: running jobs are requeued");
                    worker.StopNow();
                    lifetime.StopApplication();
                }
            }));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}

internal static class HostOutcome
{
    /// <summary>
    /// The exit code of a host that has stopped: <see cref="Cli.Ok"/> after a signal, else a failure with a line saying
    /// which service failed and why. Every Gantry service restarts itself on failure, so this is the last guard: a host
    /// stopped by a failing service never looks like a clean exit.
    /// </summary>
    public static int ExitCode(IHost host)
    {
        var failed = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().FirstOrDefault(s => s.ExecuteTask is { IsFaulted: true });
        if (failed?.ExecuteTask?.Exception?.GetBaseException() is not { } ex) return Cli.Ok;
        Console.Error.WriteLine($"gantry: stopped because {failed.GetType().Name} failed: {ex.Message}");
        return Cli.Error;
    }
}

internal static class ApiAddress
{
    /// <summary>Where the host's API actually listens (the port is chosen by the system for :0), or null without an API.</summary>
    public static string? Of(IHost host) =>
        host.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
}
