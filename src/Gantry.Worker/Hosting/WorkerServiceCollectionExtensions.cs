using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Hosting;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds a Gantry worker, run as a hosted service, to an application's services.</summary>
public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// Adds a Gantry worker that runs in the host: started with it, drained when it stops (within the host's shutdown
    /// timeout), and stopping the host when it is drained by command. It
    /// serves every handler registered with <c>AddGantryHandler</c> and reaches the coordinator
    /// through the link <paramref name="link"/> makes.
    /// </summary>
    public static IServiceCollection AddGantryWorker(this IServiceCollection services, Func<IServiceProvider, IWorkerLink> link, WorkerOptions? options = null)
    {
        services.GetHandlerRegistry();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new GantryWorker(link(sp), options ?? new WorkerOptions(), sp, time: sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService(sp => new WorkerHostedService(sp.GetRequiredService<GantryWorker>(), sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>(),
            sp.GetService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Hosting.HostOptions>>()?.Value,
            logger: sp.GetService<Microsoft.Extensions.Logging.ILogger<WorkerHostedService>>()));
        return services;
    }

    /// <summary>Adds a Gantry worker that talks to the <see cref="IJobStore"/> registered in the container.</summary>
    public static IServiceCollection AddGantryWorker(this IServiceCollection services, WorkerOptions? options = null) =>
        services.AddGantryWorker(sp => new StoreWorkerLink(sp.GetRequiredService<IJobStore>()), options);
}
