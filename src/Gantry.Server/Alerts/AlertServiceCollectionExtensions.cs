using Gantry.Server.Alerts;
using Gantry.Server.Leadership;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Alert webhooks in a process that runs the leader-elected maintenance.</summary>
public static class AlertServiceCollectionExtensions
{
    /// <summary>
    /// Adds alert webhooks (<see cref="AlertService"/>) to the leader-elected maintenance services: call it after
    /// <see cref="LeaderElectedMaintenanceServiceCollectionExtensions.AddGantryLeaderElectedMaintenance"/>. Nothing is added without webhooks.
    /// </summary>
    public static IServiceCollection AddGantryAlerts(this IServiceCollection services, AlertOptions options)
    {
        options.Validate();
        if (options.Webhooks.Count == 0) return services;
        var set = services.LastOrDefault(d => d.ServiceType == typeof(LeaderServices))?.ImplementationInstance as LeaderServices
            ?? throw new InvalidOperationException("add the leader-elected maintenance services first: alerts run on the leader");
        services.TryAddSingleton(options);
        if (!set.Types.Contains(typeof(AlertService))) set.Add<AlertService>();
        return services;
    }
}
