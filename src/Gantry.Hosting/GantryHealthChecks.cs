using Gantry.Hosting;
using Gantry.Worker.Execution;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Gantry's health checks, for an application's <c>MapHealthChecks</c>.</summary>
public static class GantryHealthCheckBuilderExtensions
{
    /// <summary>
    /// Adds Gantry's health checks, for <c>MapHealthChecks</c>: <c>gantry-store</c> (the store answers a cheap indexed
    /// query; with <c>Gantry:Server</c>, the server's <c>/health/ready</c> answers) and, when the application runs a worker,
    /// <c>gantry-worker</c> (healthy while running, paused or draining; degraded once stopped by a drain command,
    /// unhealthy before it has started) and, when it runs a node, <c>gantry-node</c> (healthy while registered and reaching the
    /// coordinator; degraded once stopping or drained; unhealthy before it has started, when the coordinator is unreachable,
    /// or when every worker process has failed). All are tagged <c>gantry</c>.
    /// </summary>
    public static IHealthChecksBuilder AddGantryHealthChecks(this IHealthChecksBuilder builder, params string[] tags)
    {
        string[] all = ["gantry", .. tags];
        builder.Add(new HealthCheckRegistration("gantry-store", sp => ActivatorUtilities.CreateInstance<GantryStoreHealthCheck>(sp), HealthStatus.Unhealthy, all));
        builder.Add(new HealthCheckRegistration("gantry-worker", sp => ActivatorUtilities.CreateInstance<GantryWorkerHealthCheck>(sp), HealthStatus.Unhealthy, all));
        // The node's check only where a node runs; AddNode may come after this call, so it is decided when the options are read.
        builder.Services.AddOptions<HealthCheckServiceOptions>().Configure<IServiceProvider>((o, sp) =>
        {
            if (sp.GetService<GantryRegistration>() is { NodeAdded: true } && !o.Registrations.Any(r => r.Name == GantryNodeHealthCheck.Name))
                o.Registrations.Add(new HealthCheckRegistration(GantryNodeHealthCheck.Name, s => ActivatorUtilities.CreateInstance<GantryNodeHealthCheck>(s), HealthStatus.Unhealthy, all));
        });
        return builder;
    }

    /// <summary>Adds the health check services and Gantry's checks (<see cref="AddGantryHealthChecks(IHealthChecksBuilder, string[])"/>).</summary>
    public static IHealthChecksBuilder AddGantryHealthChecks(this IServiceCollection services, params string[] tags) =>
        services.AddHealthChecks().AddGantryHealthChecks(tags);
}

/// <summary>The store (or the server) answers.</summary>
internal sealed class GantryStoreHealthCheck(GantryStoreHost storeHost, IOptions<GantryOptions> options) : IHealthCheck
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        if (o.ServerUri is { } server)
        {
            try
            {
                using var response = await Http.GetAsync(new Uri(server, "health/ready"), cancellationToken).ConfigureAwait(false);
                return response.IsSuccessStatusCode
                    ? HealthCheckResult.Healthy($"server {server} is ready")
                    : HealthCheckResult.Unhealthy($"server {server} answered {(int)response.StatusCode} to /health/ready");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"cannot reach the Gantry server at {server}: {ex.Message}");
            }
        }
        if (!storeHost.IsOpen) return HealthCheckResult.Unhealthy("the store is not open (the host has not started)");
        var store = storeHost.Store;
        try
        {
            // The readiness rule of the API's /health/ready: a cheap indexed query.
            await store.JobNextDueAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(store.Description);
        }
        catch (Gantry.GantryException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }
}

/// <summary>The embedded worker runs (or pauses, or drains).</summary>
internal sealed class GantryWorkerHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<GantryRegistration>() is not { WorkerAdded: true })
            return Task.FromResult(HealthCheckResult.Healthy("no worker in this application"));
        var worker = services.GetRequiredService<GantryWorker>();
        var data = new Dictionary<string, object> { ["worker"] = worker.Id, ["status"] = worker.Status, ["running"] = worker.RunningCount };
        var status = worker.Status;
        return Task.FromResult(status switch
        {
            "running" or "paused" or "draining" => HealthCheckResult.Healthy($"worker {worker.Id} is {status}", data),
            "stopped" => HealthCheckResult.Degraded($"worker {worker.Id} has stopped (drained); the application runs no jobs", data: data),
            _ => HealthCheckResult.Unhealthy($"worker {worker.Id} has not started", data: data),
        });
    }
}
