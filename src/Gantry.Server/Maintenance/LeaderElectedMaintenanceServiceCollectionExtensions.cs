using Gantry.Server.Leadership;
using Gantry.Server.Maintenance;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The maintenance services, run by whichever process is elected leader of the store.</summary>
public static class LeaderElectedMaintenanceServiceCollectionExtensions
{
    /// <summary>
    /// Adds the maintenance services (scheduler, rescuer, cleaner, dead-worker detector, store upkeep, schedule firer) under a
    /// <see cref="LeaderHost"/>: they run only while this process leads, so any number of processes
    /// can be given them and exactly one runs them.
    /// </summary>
    public static IServiceCollection AddGantryLeaderElectedMaintenance(this IServiceCollection services,
        MaintenanceOptions? maintenance = null, LeaderOptions? leader = null, Gantry.Server.Scheduling.ScheduleOptions? schedules = null)
    {
        (schedules ??= new Gantry.Server.Scheduling.ScheduleOptions()).Validate();
        services.TryAddSingleton(schedules);
        (leader ??= new LeaderOptions()).Validate();
        (maintenance ??= new MaintenanceOptions()).Validate();
        services.TryAddSingleton(maintenance);
        services.TryAddSingleton(leader);
        services.TryAddSingleton(TimeProvider.System);
        var set = new LeaderServices().Add<JobScheduler>().Add<JobRescuer>().Add<JobCleaner>().Add<DeadWorkerDetector>().Add<StoreUpkeep>()
            .Add<Gantry.Server.Scheduling.ScheduleFirer>();
        services.AddSingleton(set);
        services.AddSingleton(sp => new LeaderHost(sp.GetRequiredService<Gantry.Storage.IJobStore>(), sp.GetRequiredService<LeaderOptions>(),
            sp.GetRequiredService<LeaderServices>(), sp, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<LeaderHost>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService(sp => sp.GetRequiredService<LeaderHost>());
        return services;
    }
}
