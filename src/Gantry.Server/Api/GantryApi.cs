using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Server.Api;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The HTTP API: <c>services.AddGantryApi()</c>, then <c>app.MapGantryApi()</c>.</summary>
public static class GantryApi
{
    public static IServiceCollection AddGantryApi(this IServiceCollection services, ApiOptions? options = null)
    {
        services.TryAddSingleton(options ?? new ApiOptions());
        services.TryAddSingleton<Gantry.Server.Telemetry.MetricsCollector>();
        services.AddProblemDetails();
        services.AddOpenApi(o =>
        {
            // 3.0: what most client generators read.
            o.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0;
            o.AddDocumentTransformer(OpenApiDocuments.DescribeAsync);
            o.AddSchemaTransformer(OpenApiDocuments.TypeStringsAsync);
        });
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.WithAddedModifier(Gantry.Protocol.Wire.WireJson.Default, NullableMembersOptional));
            // A body is read strictly: a key given twice, a required member missing or a NUL in text is bad input, never a guess.
            o.SerializerOptions.AllowDuplicateProperties = false;
            // A field the call does not take is refused by name, as in job documents: a typo is never silently dropped.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.RespectRequiredConstructorParameters = true;
            o.SerializerOptions.Converters.Add(new Gantry.Serialization.TextFieldConverter());
        });
        // A body or parameter that does not bind throws, so that ApiGuard answers it as problem details naming the field.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>
    /// A constructor parameter of a nullable type may be left out of a body (it reads as null): senders leave nulls
    /// out, and requiring them would refuse a node's heartbeat for a worker that never failed. Every other
    /// constructor parameter stays required.
    /// </summary>
    private static void NullableMembersOptional(System.Text.Json.Serialization.Metadata.JsonTypeInfo info)
    {
        foreach (var property in info.Properties)
            if (property.IsRequired && property.AssociatedParameter is { IsNullable: true })
                property.IsRequired = false;
    }

    /// <summary>For a process with no store (a worker): its own instruments on <c>/metrics</c>, and <c>/health/live</c>. Tokens as for the API.</summary>
    public static IServiceCollection AddGantryWorkerMetrics(this IServiceCollection services, ApiOptions? options = null)
    {
        services.TryAddSingleton(options ?? new ApiOptions());
        services.TryAddSingleton<Gantry.Server.Telemetry.MetricsCollector>();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Every request passes <see cref="ApiGuard"/> (host, origin, media type, query) and every error leaves as problem details.</summary>
    private static void Guard(IEndpointRouteBuilder app)
    {
        if (app is IApplicationBuilder pipeline) pipeline.UseMiddleware<ApiGuard>();
    }

    /// <param name="first">Written at the head of <c>/metrics</c>, before this process's own instruments.</param>
    public static IEndpointRouteBuilder MapGantryWorkerMetrics(this IEndpointRouteBuilder app, Action<System.Text.StringBuilder>? first = null)
    {
        Guard(app);
        _ = app.ServiceProvider.GetRequiredService<Gantry.Server.Telemetry.MetricsCollector>();
        app.MapGet("/metrics", (Gantry.Server.Telemetry.MetricsCollector collector) => MetricsEndpoint.RenderOwn(collector, first))
            .AddEndpointFilter(ApiAuthorization.Filter).WithMetadata(new RequiredScope(ApiScope.Read));
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));
        return app;
    }

    public static IEndpointRouteBuilder MapGantryApi(this IEndpointRouteBuilder app)
    {
        Guard(app);
        // Authorization first, then errors as problem details.
        var api = app.MapGroup("/api/v1").AddEndpointFilter(ApiAuthorization.Filter).AddEndpointFilter(ApiProblems.Filter)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        JobsEndpoints.Map(api);
        WorkflowsEndpoints.Map(api);
        QueuesAndWorkersEndpoints.Map(api);
        SchedulesEndpoints.Map(api);
        WorkerProtocolEndpoints.Map(api);

        app.MapOpenApi("/openapi.json").WithName("GetOpenApiDocument").ExcludeFromDescription();
        // Listening from the start, so that /metrics counts everything since.
        _ = app.ServiceProvider.GetRequiredService<Gantry.Server.Telemetry.MetricsCollector>();
        app.MapGet("/metrics", MetricsEndpoint.RenderAsync).WithTags("Operations").WithName("GetMetrics").Produces<string>(StatusCodes.Status200OK, "text/plain")
            .AddEndpointFilter(ApiAuthorization.Filter).WithMetadata(new RequiredScope(ApiScope.Read));
        app.MapGet("/health/live", () => TypedResults.Ok(new HealthView("live"))).WithTags("Health").WithName("GetLiveness");
        // Ready when the store answers a cheap indexed query (and so is reachable and migrated).
        // Open to all, it names the store (and why it fails) only to a caller who may read the API.
        app.MapGet("/health/ready", async (HttpContext http, IJobStore store, CancellationToken ct) =>
        {
            var reader = ApiAuthorization.Allows(http, ApiScope.Read);
            try
            {
                await store.JobNextDueAsync(ct).ConfigureAwait(false);
                return Results.Ok(new HealthView("ready", reader ? store.Description : null));
            }
            catch (Gantry.GantryException ex)
            {
                return ApiProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Not ready", reader ? ex.Message : "the store does not answer");
            }
        }).WithTags("Health").WithName("GetReadiness").Produces<HealthView>().ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
