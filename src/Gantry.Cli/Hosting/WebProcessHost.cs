using Gantry.Server.Api;
using Gantry.Server.Maintenance;
using Gantry.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Hosting;

/// <summary>
/// The part of <see cref="ProcessHost"/> that serves HTTP (the API and dashboard, or a worker's or node's metrics):
/// Kestrel on the listen address, and the endpoints mapped once the host is built. Kept apart so that a process that
/// serves no HTTP never loads ASP.NET Core: its methods are the only ones that name its types.
/// </summary>
internal static class WebProcessHost
{
    /// <summary>A web application builder for <paramref name="api"/> (the API and dashboard) or, without it, <paramref name="metrics"/>.</summary>
    public static IHostApplicationBuilder CreateBuilder(ApiHosting? api, ApiHosting? metrics, MaintenanceOptions? maintenance, GantryConfig config)
    {
        // The host's optional appsettings.json is read once, not watched: its watcher is a thread and an inotify instance
        // for a file a gantry process has no use for (its settings are gantry.json's, read by CommandSettings).
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        if (api is null)
        {
            web.WebHost.UseUrls(metrics!.Url);
            web.Services.AddGantryWorkerMetrics(metrics.MetricsOptions());
            return web;
        }
        web.WebHost.UseUrls(api.Url);
        web.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = ApiOptions.MaxRequestBytesDefault);
        web.Services.AddGantryApi(api.ApiOptions(config.KnownJobTypes) with { DeadWorkerTimeout = maintenance?.DeadWorkerTimeout, Limits = config.JobLimits });
        // Dashboard sessions and anti-forgery tokens are protected with keys held in memory: a restart signs everyone out,
        // and nothing secret is written to disk.
        web.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        WithoutKeyRingAtStart(web.Services);
        return web;
    }

    /// <summary>
    /// Removes the hosted service AddDataProtection registers (AddAntiforgery calls it too) to load the default key ring as
    /// the host starts: the ephemeral provider never uses that ring, yet loading it makes a key, writes it to
    /// ~/.aspnet/DataProtection-Keys, and loads libssl and libcrypto (3–4 MiB resident) before any request needs them.
    /// </summary>
    private static void WithoutKeyRingAtStart(IServiceCollection services)
    {
        const string KeyRingLoader = "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService";
        foreach (var loader in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.FullName == KeyRingLoader).ToList())
            services.Remove(loader);
    }

    /// <summary>Builds the web application of <see cref="CreateBuilder"/> and maps what it serves.</summary>
    public static IHost Build(IHostApplicationBuilder builder, ApiHosting? api, WorkerOptions? workerOptions, Gantry.Node.NodeOptions? node)
    {
        var app = ((WebApplicationBuilder)builder).Build();
        if (api is not null)
        {
            app.MapGantryApi();
            if (api.Dashboard) app.MapGantryDashboard();
        }
        else if (node is not null)
        {
            // The node's managed workers (by state; per worker its restarts, jobs run and slots) and its own state.
            var running = new Lazy<Gantry.Node.GantryNode>(() => app.Services.GetRequiredService<Gantry.Node.GantryNode>());
            app.MapGantryWorkerMetrics(sb =>
            {
                var status = running.Value.Status();
                Gantry.Server.Telemetry.ManagedWorkerMetrics.WriteTo(sb, status.NodeId, status.Paused, status.Workers);
                Gantry.Server.Telemetry.WorkerGauges.WriteNodeTo(sb, status.NodeId, running.Value.IsStopping, running.Value.HeldLeases, running.Value.HeartbeatAge);
            }, () => running.Value.IsReady);
        }
        else if (workerOptions is not null)
        {
            // Made once the host has started (on a store, the worker's link needs the open store).
            var worker = new Lazy<Gantry.Worker.Execution.GantryWorker>(() => app.Services.GetRequiredService<Gantry.Worker.Execution.GantryWorker>());
            app.MapGantryWorkerMetrics(sb => Gantry.Server.Telemetry.WorkerGauges.WriteTo(sb, worker.Value.Id, worker.Value.RunningCount, worker.Value.Options.EffectiveCapacity,
                worker.Value.IsPaused, worker.Value.Status is "draining" or "stopped", worker.Value.HeldLeases, worker.Value.HeartbeatAge), () => worker.Value.IsReady);
        }
        else app.MapGantryWorkerMetrics();
        return app;
    }
}
