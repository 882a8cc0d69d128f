using System.Text.Json;
using Gantry.Worker.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

// Extension methods on IServiceCollection live in its namespace, so they are found without a using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers job handlers (<see cref="Gantry.Handlers.IJobHandler{TPayload, TResult}"/>, process handlers) for the worker an application runs.</summary>
public static class GantryWorkerServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="THandler"/> as the handler of <paramref name="jobType"/> (one new instance per job).</summary>
    /// <param name="checkpointInterval">How often a handler that implements <c>ICheckpointSource</c> is asked for its
    /// state, for jobs of this type that set no interval of their own (default: the worker's, 5 minutes).</param>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(HandlerRegistry.ReflectionWarning)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(HandlerRegistry.ReflectionWarning)]
    public static IServiceCollection AddGantryHandler<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(HandlerRegistry.HandlerMembers)] THandler>(
        this IServiceCollection services, string jobType, TimeSpan? checkpointInterval = null)
        where THandler : class
    {
        services.GetHandlerRegistry().Add(jobType, typeof(THandler), checkpointInterval);
        services.TryAddTransient<THandler>();
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> (an <c>IJobHandler&lt;TPayload, TResult&gt;</c>) as the handler of
    /// <paramref name="jobType"/>, its payload and result types named: the invoker is then compiled ahead of time, and the
    /// registration works under Native AOT (the payload and result are still read and written by reflection).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(HandlerRegistry.ReflectionWarning)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(HandlerRegistry.ReflectionWarning)]
    public static IServiceCollection AddGantryHandler<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(HandlerRegistry.HandlerMembers)] THandler, TPayload, TResult>(
        this IServiceCollection services, string jobType, TimeSpan? checkpointInterval = null)
        where THandler : class, Gantry.Handlers.IJobHandler<TPayload, TResult>
    {
        services.GetHandlerRegistry().Add<THandler, TPayload, TResult>(jobType, checkpointInterval);
        services.TryAddTransient<THandler>();
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> as the handler of <paramref name="jobType"/>, its payload read and its
    /// result written with <paramref name="payload"/> and <paramref name="result"/> (System.Text.Json source generation,
    /// <c>[JsonSerializable]</c>): no reflection, trimming- and Native AOT-safe.
    /// </summary>
    public static IServiceCollection AddGantryHandler<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TPayload, TResult>(
        this IServiceCollection services, string jobType, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TPayload> payload,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResult> result, TimeSpan? checkpointInterval = null)
        where THandler : class, Gantry.Handlers.IJobHandler<TPayload, TResult>
    {
        services.GetHandlerRegistry().Add<THandler, TPayload, TResult>(jobType, payload, result, checkpointInterval);
        services.TryAddTransient<THandler>();
        return services;
    }

    /// <summary>As the overload with a result's type information, for an <c>IJobHandler&lt;TPayload&gt;</c>.</summary>
    public static IServiceCollection AddGantryHandler<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TPayload>(
        this IServiceCollection services, string jobType, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TPayload> payload, TimeSpan? checkpointInterval = null)
        where THandler : class, Gantry.Handlers.IJobHandler<TPayload>
    {
        services.GetHandlerRegistry().Add<THandler, TPayload>(jobType, payload, checkpointInterval);
        services.TryAddTransient<THandler>();
        return services;
    }

    /// <summary>As <see cref="AddGantryHandler{THandler, TPayload, TResult}(IServiceCollection, string, TimeSpan?)"/>, for an <c>IJobHandler&lt;TPayload&gt;</c>.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(HandlerRegistry.ReflectionWarning)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(HandlerRegistry.ReflectionWarning)]
    public static IServiceCollection AddGantryHandler<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(HandlerRegistry.HandlerMembers)] THandler, TPayload>(
        this IServiceCollection services, string jobType, TimeSpan? checkpointInterval = null)
        where THandler : class, Gantry.Handlers.IJobHandler<TPayload>
    {
        services.GetHandlerRegistry().Add<THandler, TPayload>(jobType, checkpointInterval);
        services.TryAddTransient<THandler>();
        return services;
    }

    /// <summary>Binds <paramref name="jobType"/> to a command: each attempt runs it as a process (docs/process-handlers.md).</summary>
    public static IServiceCollection AddGantryProcessHandler(this IServiceCollection services, string jobType, Gantry.Worker.Handlers.Process.ProcessHandlerSpec spec)
    {
        if (spec.Command.Count == 0 || string.IsNullOrWhiteSpace(spec.Command[0]))
            throw new Gantry.InvalidInputException($"handlers.{jobType}.command", "must name a program");
        services.GetHandlerRegistry().AddProcess(jobType, spec);
        return services;
    }

    /// <summary>The registry that <c>AddGantryHandler</c> fills, added on first use.</summary>
    internal static HandlerRegistry GetHandlerRegistry(this IServiceCollection services)
    {
        var descriptor = services.FirstOrDefault(d => d.ServiceType == typeof(HandlerRegistry));
        if (descriptor?.ImplementationInstance is HandlerRegistry existing) return existing;
        var registry = new HandlerRegistry(services);
        services.AddSingleton(registry);
        return registry;
    }
}
