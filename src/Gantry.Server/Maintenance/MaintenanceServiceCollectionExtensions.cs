using Gantry.Server.Maintenance;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class MaintenanceServiceCollectionExtensions
{
    /// <summary>Adds the scheduler, rescuer, cleaner, store upkeep and schedule firer as hosted services. Each change they
    /// make is a conditional update (a fire, a keyed insert), so several processes running them on one store do not conflict.</summary>
    public static IServiceCollection AddGantryMaintenance(this IServiceCollection services, MaintenanceOptions? options = null)
    {
        (options ??= new MaintenanceOptions()).Validate();
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<JobScheduler>();
        services.AddHostedService<JobRescuer>();
        services.AddHostedService<JobCleaner>();
        services.AddHostedService<StoreUpkeep>();
        services.TryAddSingleton(new Gantry.Server.Scheduling.ScheduleOptions());
        services.AddHostedService<Gantry.Server.Scheduling.ScheduleFirer>();
        return services;
    }
}
