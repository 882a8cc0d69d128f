using Gantry.Node;
using Gantry.Server.Api;
using Gantry.Server.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Hosting;

/// <summary>
/// <c>gantry node --metrics-listen</c>: the node's managed workers and its own instruments on <c>/metrics</c>,
/// <c>/health/live</c> and <c>/health/ready</c> (<see cref="GantryNode.IsReady"/>), tokens as for the API. It answers until the node has drained and stops it:
/// the node, not the web host, handles the signals.
/// </summary>
internal static class NodeMetricsHost
{
    public static async Task<WebApplication> StartAsync(ApiHosting listen, GantryNode node, CancellationToken ct)
    {
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        web.WebHost.UseUrls(listen.Url);
        web.Logging.ClearProviders();
        web.Services.AddGantryWorkerMetrics(listen.MetricsOptions());
        web.Services.AddSingleton<IHostLifetime, NodeOwnedLifetime>();
        var app = web.Build();
        app.MapGantryWorkerMetrics(sb =>
        {
            var status = node.Status();
            ManagedWorkerMetrics.WriteTo(sb, status.NodeId, status.Paused, status.Workers);
            WorkerGauges.WriteNodeTo(sb, status.NodeId, node.IsStopping, node.HeldLeases, node.HeartbeatAge);
        }, () => node.IsReady);
        await app.StartAsync(ct).ConfigureAwait(false);
        return app;
    }

    /// <summary>Started and stopped by its owner only.</summary>
    private sealed class NodeOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
