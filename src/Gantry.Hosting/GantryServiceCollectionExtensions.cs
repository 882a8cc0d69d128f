using Gantry;
using Gantry.Hosting;
using Gantry.Hosting.Client;
using Gantry.Hosting.Control;
using Gantry.Server.Maintenance;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// Extension methods on IServiceCollection live in its namespace, so they are found without a using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Gantry in an application's container: <c>services.AddGantry(configuration)</c>.</summary>
public static class GantryServiceCollectionExtensions
{
    /// <summary>
    /// Adds Gantry to an application, configured from <paramref name="configuration"/> (the <c>"Gantry"</c> section:
    /// <c>Store</c> or <c>Server</c> + <c>Token</c>, <c>Migrate</c>, <c>Worker</c>, <c>Maintenance</c>; docs/library.md).
    /// The options are checked when the host starts. With a store, the host opens it (creating or upgrading its schema,
    /// unless <c>"Migrate": false</c>) before any other Gantry service starts, runs the maintenance services under leader
    /// election (unless <c>"Maintenance": { "Enabled": false }</c>) and disposes the store when it is disposed.
    /// Registers <see cref="IJobClient"/>, and <see cref="IJobStore"/> in store mode (usable once the host has started).
    /// </summary>
    public static GantryBuilder AddGantry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(GantryRegistration)))
            throw new InvalidOperationException("AddGantry was called twice: call it once and chain AddHandler and AddWorker on what it returns");
        var registration = new GantryRegistration();
        services.AddSingleton(registration);
        services.AddOptions<GantryOptions>().Configure(o => GantryConfiguration.Read(configuration, o, registration.OtherSettings)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GantryOptions>>(new GantryOptionsValidator(registration));
        services.TryAddSingleton(TimeProvider.System);
        services.GetHandlerRegistry();

        // The store first, so that it is open before the services after it start and disposed after they have stopped.
        services.AddSingleton<GantryStoreHost>();
        services.AddHostedService(sp => sp.GetRequiredService<GantryStoreHost>());
        services.TryAddSingleton<IJobStore>(sp => sp.GetRequiredService<GantryStoreHost>().Store);
        services.TryAddSingleton<IJobClient>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<GantryOptions>>().Value;
            var storeHost = sp.GetRequiredService<GantryStoreHost>();
            // Made on first use: the store is open only once the host has started. (Not disposed: a StoreControl would dispose the store.)
            var control = new Lazy<IGantryControl>(() => o.ServerUri is { } server ? new ApiControl(server, o.Token) : new StoreControl(storeHost.Store));
            return new JobClient(control, () => storeHost.IsOpen ? storeHost.Store : null, sp.GetRequiredService<Gantry.Worker.Handlers.HandlerRegistry>(),
                sp.GetRequiredService<TimeProvider>());
        });

        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<GantryOptions>>().Value.Maintenance);
        var from = services.Count;
        services.AddGantryLeaderElectedMaintenance();
        DeferredHostedService.DeferFrom(services, from, sp =>
            sp.GetRequiredService<IOptions<GantryOptions>>().Value is { MaintenanceEnabled: true, StoreLocation: not null });
        return new GantryBuilder(services, registration);
    }
}
