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
