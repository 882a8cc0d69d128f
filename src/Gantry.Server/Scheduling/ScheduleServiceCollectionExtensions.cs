using Gantry.Scheduling;
using Gantry.Server.Scheduling;
using Gantry.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Schedules, retention and flow limits declared in code or configuration, set in the store as the process starts.</summary>
public static class ScheduleServiceCollectionExtensions
{
    /// <summary>
    /// Declares a schedule in code: created or updated in the store as the process starts, and removed at a later start
    /// that no longer declares it (only schedules declared in code are removed so). The schedule firer itself runs with the
    /// leader-elected maintenance services.
    /// </summary>
    public static IServiceCollection AddGantrySchedule(this IServiceCollection services, ScheduleDefinition definition) =>
        services.AddGantrySchedules(ScheduleOrigins.Code, [definition]);

    /// <summary>Declares a schedule in code from its parts: <paramref name="payload"/> is JSON text (default <c>{}</c>),
    /// <paramref name="timeZone"/> an IANA id (default UTC). The other fields keep their defaults.</summary>
    public static IServiceCollection AddGantrySchedule(this IServiceCollection services, string name, string cron, string type,
        string? payload = null, string? timeZone = null) =>
        services.AddGantrySchedule(new ScheduleDefinition
        {
            Name = name, Cron = cron, Type = type, Payload = payload ?? "{}", TimeZone = timeZone ?? ScheduleDefinition.TimeZoneDefault,
        });

    /// <summary>Declares the schedules <paramref name="origin"/> holds (all of them: one that origin declared before and no longer does is removed at start).</summary>
    public static IServiceCollection AddGantrySchedules(this IServiceCollection services, string origin, IEnumerable<ScheduleDefinition> definitions)
    {
        var declared = DeclaredOf(services);
        declared.Declare(origin);
        foreach (var d in definitions) declared.Add(d, origin);
        return services;
    }

    /// <summary>Declares a queue's per-state retention, set in the store as the process starts.</summary>
    public static IServiceCollection AddGantryQueueRetention(this IServiceCollection services, QueueRetention retention)
    {
        if (!services.Any(d => d.ImplementationType == typeof(Gantry.Server.Maintenance.DeclaredRetention)))
            services.AddHostedService<Gantry.Server.Maintenance.DeclaredRetention>();
        services.AddSingleton(retention);
        return services;
    }

    /// <summary>Declares a queue's flow limits (gantry.json's <c>limits</c>), set in the store as the process starts.</summary>
    public static IServiceCollection AddGantryQueueLimits(this IServiceCollection services, Gantry.Flow.DeclaredQueueLimits limits)
    {
        if (!services.Any(d => d.ImplementationType == typeof(Gantry.Server.Maintenance.DeclaredLimits)))
            services.AddHostedService<Gantry.Server.Maintenance.DeclaredLimits>();
        services.AddSingleton(limits);
        return services;
    }

    private static DeclaredSchedules DeclaredOf(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(DeclaredSchedules))?.ImplementationInstance is DeclaredSchedules existing) return existing;
        var declared = new DeclaredSchedules();
        services.AddSingleton(declared);
        services.AddHostedService<DeclaredSchedulesReconciler>();
        return declared;
    }
}
