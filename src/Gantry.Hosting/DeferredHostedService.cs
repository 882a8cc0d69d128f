using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Hosting;

/// <summary>
/// A hosted service created only when the host starts it, and only when <paramref name="when"/> says so. The host
/// creates every hosted service before it starts the first one; a Gantry service built then would ask for the store
/// before <see cref="GantryStoreHost"/> has opened it. Deferred, it is built after the store host has started.
/// </summary>
internal sealed class DeferredHostedService(IServiceProvider services, ServiceDescriptor inner, Func<IServiceProvider, bool> when) : IHostedService
{
    private IHostedService? _service;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!when(services)) return Task.CompletedTask;
        _service = inner.ImplementationInstance as IHostedService
            ?? inner.ImplementationFactory?.Invoke(services) as IHostedService
            ?? (IHostedService)ActivatorUtilities.CreateInstance(services, inner.ImplementationType!);
        return _service.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _service?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>The service once started; null before, or when it was not to run.</summary>
    public IHostedService? Inner => _service;

    /// <summary>Defers every hosted service registered in <paramref name="services"/> from index <paramref name="from"/> on.</summary>
    public static void DeferFrom(IServiceCollection services, int from, Func<IServiceProvider, bool> when)
    {
        for (var i = from; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(IHostedService) || d.IsKeyedService) continue;
            services[i] = ServiceDescriptor.Singleton<IHostedService>(sp => new DeferredHostedService(sp, d, when));
        }
    }
}
