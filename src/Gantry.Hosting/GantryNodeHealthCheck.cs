using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gantry.Hosting;

/// <summary>The node of <c>AddNode</c> is registered, reaches the coordinator and has workers that have not all failed.</summary>
internal sealed class GantryNodeHealthCheck(IServiceProvider services) : IHealthCheck
{
    public const string Name = "gantry-node";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // The hosted service once started (it is built only then: the node's link needs the open store).
        if (StartedServices.Node(services) is not { } hosted) return Task.FromResult(HealthCheckResult.Unhealthy("the node has not started"));
        var node = hosted.Node;
        var status = node.Status();
        var data = new Dictionary<string, object>
        {
            ["node"] = node.Id, ["state"] = status.State, ["workers"] = status.Workers.Count, ["held_leases"] = node.HeldLeases,
        };
        return Task.FromResult(status.State switch
        {
            "stopping" => HealthCheckResult.Degraded($"node {node.Id} is stopping (or drained): it runs no new jobs", data: data),
            "failed" => HealthCheckResult.Unhealthy($"node {node.Id}: every worker process has failed", data: data),
            _ when !node.IsReady => HealthCheckResult.Unhealthy($"node {node.Id} cannot reach the coordinator ({node.HeartbeatAge.TotalSeconds:0.#} s since its leases were renewed)", data: data),
            _ => HealthCheckResult.Healthy($"node {node.Id} is {status.State} with {status.Workers.Count} workers", data),
        });
    }
}
