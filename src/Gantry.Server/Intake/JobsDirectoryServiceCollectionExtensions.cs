using Gantry.Server.Intake;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The drop folder for job documents (<c>--jobs-dir</c>) as a hosted service.</summary>
public static class JobsDirectoryServiceCollectionExtensions
{
    /// <summary>Watches a folder for job documents (<see cref="JobsDirectory"/>).</summary>
    public static IServiceCollection AddGantryJobsDirectory(this IServiceCollection services, JobsDirectoryOptions options)
    {
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<JobsDirectory>();
        services.AddHostedService(sp => sp.GetRequiredService<JobsDirectory>());
        return services;
    }
}
