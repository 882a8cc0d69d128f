using Gantry.Node;
using Gantry.Worker.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Hosting;

/// <summary>
/// What a host composed with <c>AddGantry</c> runs, found without building any service that was not built yet (Gantry's
/// hosted services are built only as the host starts them, after the store is open): for a process's signal handling
/// and its exit code.
/// </summary>
public static class GantryHostServices
{
    /// <summary>
    /// What holds the host's running jobs: its node (<see cref="GantryBuilder.AddNode"/>) once started, else its worker
    /// (<see cref="GantryBuilder.AddWorker"/>); both null when it runs neither. Either can drain, or stop now
    /// (<see cref="GantryNode.StopNow"/>, <see cref="GantryWorker.StopNow"/>), requeueing what runs.
    /// </summary>
    public static (GantryNode? Node, GantryWorker? Worker) Runners(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // A node process has no worker of its own; a node that has not started is not looked for (built early, it would fail).
        if (services.GetService<GantryRegistration>() is { NodeAdded: true }) return (StartedServices.Node(services)?.Node, null);
        return (null, services.GetService<GantryWorker>());
    }

    /// <summary>
    /// The first of the host's hosted services whose run has failed, and why; null when none has. Every Gantry service
    /// restarts itself on failure, so one found here stopped the host.
    /// </summary>
    public static (BackgroundService Service, Exception Error)? Failed(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var failed = services.GetServices<IHostedService>().Select(s => s is DeferredHostedService d ? d.Inner : s)
            .OfType<BackgroundService>().FirstOrDefault(s => s.ExecuteTask is { IsFaulted: true });
        return failed?.ExecuteTask?.Exception?.GetBaseException() is { } ex ? (failed, ex) : null;
    }
}
