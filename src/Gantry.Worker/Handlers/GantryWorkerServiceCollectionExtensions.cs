using System.Text.Json;
using Gantry.Worker.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

// Extension methods on IServiceCollection live in its namespace, so they are found without a using.
namespace Microsoft.Extensions.DependencyInjection;

public static class GantryWorkerServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="THandler"/> as the handler of <paramref name="jobType"/> (one new instance per job).</summary>
    public static IServiceCollection AddGantryHandler<THandler>(this IServiceCollection services, string jobType)
        where THandler : class
    {
        services.GetHandlerRegistry().Add(jobType, typeof(THandler));
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
        var registry = new HandlerRegistry();
        services.AddSingleton(registry);
        return registry;
    }
}

/// <summary>JSON settings for payloads and results: snake_case names, read case-insensitively.</summary>
public static class GantryPayloadJson
{
    public static readonly JsonSerializerOptions Default = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
    };
}
