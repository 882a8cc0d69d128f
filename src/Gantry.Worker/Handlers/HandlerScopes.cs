using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Handlers;

/// <summary>
/// Whether a handler needs a DI scope of its own per job. A scope costs every job a scope object and its dictionary of
/// resolved services; a handler registered as a singleton, or as a transient that is not disposable and whose one public
/// constructor takes only singletons, is the same object graph resolved from the root provider, so it is resolved
/// there. Read off the service registrations once per job type. Whatever they cannot tell keeps the scope: several
/// constructors, a factory, a scoped or transient dependency, a keyed one, the service provider itself, or a
/// dependency registered nowhere (an application's own container may hold it).
/// </summary>
internal static class HandlerScopes
{
    /// <summary>The parameters of <paramref name="handlerType"/>'s only public constructor; null when it has several.</summary>
    public static ParameterInfo[]? ConstructorOf([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type handlerType) =>
        handlerType.GetConstructors() is [var only] ? only.GetParameters() : null;

    /// <summary>True unless the registrations in <paramref name="services"/> show that resolving the handler from the root
    /// provider gives what a scope would, and leaves nothing for the root to keep.</summary>
    public static bool Needed(IServiceCollection? services, HandlerRegistration handler)
    {
        if (!handler.UsesServices) return false;
        if (services is null || handler.Constructor is not { } parameters) return true;
        switch (Last(services, handler.HandlerType))
        {
            case { Lifetime: ServiceLifetime.Singleton }:
                return false;
            case { Lifetime: ServiceLifetime.Transient } transient when transient.ImplementationType == handler.HandlerType:
                // The root keeps every disposable transient it makes until it is disposed itself.
                if (typeof(IDisposable).IsAssignableFrom(handler.HandlerType) || typeof(IAsyncDisposable).IsAssignableFrom(handler.HandlerType)) return true;
                foreach (var parameter in parameters)
                {
                    if (parameter.IsDefined(typeof(FromKeyedServicesAttribute)) || parameter.IsDefined(typeof(ServiceKeyAttribute))) return true;
                    var dependency = Last(services, parameter.ParameterType);
                    if (dependency is null ? !parameter.HasDefaultValue : dependency.Lifetime != ServiceLifetime.Singleton) return true;
                }
                return false;
            default:
                return true;
        }
    }

    /// <summary>The registration a provider resolves <paramref name="type"/> by (the last one; a closed generic type's own before its
    /// open definition's); null when there is none.</summary>
    private static ServiceDescriptor? Last(IServiceCollection services, Type type)
    {
        ServiceDescriptor? open = null;
        var definition = type.IsConstructedGenericType ? type.GetGenericTypeDefinition() : null;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.IsKeyedService) continue;
            if (descriptor.ServiceType == type) return descriptor;
            if (definition is not null && open is null && descriptor.ServiceType == definition) open = descriptor;
        }
        return open;
    }
}
