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
    /// <summary>Adds the services the HTTP API needs (<see cref="MapGantryApi"/> maps it): its options, metrics, OpenAPI document, the dashboard's sessions and its overview sampler.</summary>
    /// <param name="options">What the API accepts (tokens, limits, hosts, origins); the defaults when null. Checked here (<see cref="Gantry.InvalidInputException"/>).</param>
    public static IServiceCollection AddGantryApi(this IServiceCollection services, ApiOptions? options = null)
    {
        (options ??= new ApiOptions()).Validate();
        services.TryAddSingleton(options);
        services.TryAddSingleton<Gantry.Server.Telemetry.MetricsCollector>();
        services.AddProblemDetails();
        // The API keeps its own JSON and binding options (GantryApiServices): the app's are left as the app set them.
        services.TryAddSingleton<GantryApiServices>();
        // Its own OpenAPI document, of its own endpoints only (group name), so that an app's document stays the app's.
        services.AddOpenApi(OpenApiDocuments.Name, o =>
        {
            // 3.0: what most client generators read.
            o.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0;
            o.ShouldInclude = description => description.GroupName == OpenApiDocuments.Name;
            o.AddDocumentTransformer(OpenApiDocuments.DescribeAsync);
            o.AddSchemaTransformer(OpenApiDocuments.TypeStringsAsync);
        });
        OpenApiDocuments.SchemasWithGantryJson(services);
        // The dashboard's sessions: data protection for its tickets, anti-forgery for its actions; the overview's sampler.
        services.AddAntiforgery();
        if (!services.Any(d => d.ServiceType == typeof(Gantry.Server.Dashboard.SignInRateLimit)))
        {
            services.AddSingleton<Gantry.Server.Dashboard.SignInRateLimit>();
            Gantry.Server.Dashboard.SignInRateLimit.AddTo(services);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FailedAuthentications>();
        services.TryAddSingleton<Gantry.Server.Dashboard.OverviewSampler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, Gantry.Server.Dashboard.OverviewSampler>(
            sp => sp.GetRequiredService<Gantry.Server.Dashboard.OverviewSampler>()));
        return services;
    }

    /// <summary>For a process with no store (a worker): its own instruments on <c>/metrics</c>, and <c>/health/live</c>. Tokens as for the API.</summary>
    public static IServiceCollection AddGantryWorkerMetrics(this IServiceCollection services, ApiOptions? options = null)
    {
        (options ??= new ApiOptions()).Validate();
        services.TryAddSingleton(options);
        services.TryAddSingleton<Gantry.Server.Telemetry.MetricsCollector>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FailedAuthentications>();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Every request passes <see cref="ApiGuard"/> (host, origin, media type, query) and every error leaves as problem details.</summary>
    private static void Guard(IEndpointRouteBuilder app)
    {
        if (app is IApplicationBuilder pipeline) pipeline.UseMiddleware<ApiGuard>();
    }

    /// <summary>
    /// Under a prefix, only the requests under it pass <see cref="ApiGuard"/>: the app's own paths keep the app's rules.
    /// At the root (a process that serves only Gantry) every request does, so that an unknown path is problem details too.
    /// </summary>
    internal static void Guard(IEndpointRouteBuilder app, string prefix)
    {
        // Once per prefix: the API and the dashboard share one guard (and one at the root covers every prefix).
        if (app is not IApplicationBuilder builder) return;
        if (builder.Properties.TryGetValue(GuardedKey, out var value) is false || value is not HashSet<string> guarded)
            builder.Properties[GuardedKey] = guarded = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (guarded.Contains("") || !guarded.Add(prefix)) return;
        if (prefix.Length == 0) Guard(app);
        else if (app is IApplicationBuilder pipeline)
            pipeline.UseWhen(http => http.Request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase), branch => branch.UseMiddleware<ApiGuard>());
    }

    private const string GuardedKey = "Gantry.ApiGuard.Prefixes";

    /// <summary><c>"/gantry"</c> from <c>"gantry"</c>, <c>"/gantry/"</c> or <c>"/gantry"</c>; empty for none or <c>"/"</c>.</summary>
    internal static string NormalPrefix(string? prefix)
    {
        var trimmed = (prefix ?? "").Trim().Trim('/');
        if (trimmed.Length == 0) return "";
        if (trimmed.IndexOfAny(['{', '}', '?', '#', '*']) >= 0)
            throw new ArgumentException($"the API prefix '{prefix}' must be a plain path such as /gantry", nameof(prefix));
        return "/" + trimmed;
    }

    /// <param name="first">Written at the head of <c>/metrics</c>, before this process's own instruments.</param>
    /// <param name="ready">Answers <c>/health/ready</c>: 200 when true, 503 otherwise; without it, there is no <c>/health/ready</c>.</param>
    public static IEndpointRouteBuilder MapGantryWorkerMetrics(this IEndpointRouteBuilder app, Action<System.Text.StringBuilder>? first = null, Func<bool>? ready = null)
    {
        Guard(app);
        _ = app.ServiceProvider.GetRequiredService<Gantry.Server.Telemetry.MetricsCollector>();
        app.MapGet("/metrics", (Gantry.Server.Telemetry.MetricsCollector collector) => MetricsEndpoint.RenderOwn(collector, first))
            .RequireApiAuthorization().WithMetadata(new RequiredScope(ApiScope.Read));
        app.MapGet("/health/live", () => TypedResults.Ok(new StatusOnly("live")));
        if (ready is not null)
            app.MapGet("/health/ready", () => ready()
                ? Results.Ok(new StatusOnly("ready"))
                : Results.Json(new StatusOnly("not ready"), StatusOnlyJson.Default.StatusOnly, statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }

    /// <summary>A worker's <c>/health/live</c> and <c>/health/ready</c>: <c>{"status":"…"}</c> (a named type, so that the
    /// request-delegate generator can write it).</summary>
    internal sealed record StatusOnly(string Status);

    /// <summary>
    /// Maps the API (<c>/api/v1/…</c>), its OpenAPI document (<c>/openapi.json</c>), its metrics (<c>/metrics</c>) and
    /// health (<c>/health/live</c>, <c>/health/ready</c>) under <paramref name="prefix"/> (<c>"/gantry"</c>), or at the
    /// root without one. Its endpoints read and write JSON with Gantry's options; the app's own stay untouched.
    /// </summary>
    public static IEndpointRouteBuilder MapGantryApi(this IEndpointRouteBuilder app, string? prefix = null)
    {
        prefix = NormalPrefix(prefix);
        Guard(app, prefix);
        var services = app.ServiceProvider.GetRequiredService<GantryApiServices>();
        // Every endpoint below is built on this builder's groups, and so with Gantry's JSON and binding options.
        var root = new GantryApiServices.Routes(app, services.Over(app.ServiceProvider)).MapGroup(prefix.Length == 0 ? "/" : prefix)
            .AddEndpointFilter(GantryApiServices.Filter).WithGroupName(OpenApiDocuments.Name);
        // Authorization first (before binding: a caller without the scope is refused whatever it sends), then errors as problem details.
        var api = root.MapGroup("/api/v1").RequireApiAuthorization().AddEndpointFilter(ApiProblems.Filter).AddEndpointFilter(PayloadHiding.Filter)
            .AddEndpointFilter(ApiAudit.Filter)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        JobsEndpoints.Map(api);
        WorkflowsEndpoints.Map(api);
        QueuesAndWorkersEndpoints.Map(api);
        SchedulesEndpoints.Map(api);
        WorkerProtocolEndpoints.Map(api);
        OverviewEndpoints.Map(api);
        AuditEndpoints.Map(api);

        root.MapGet("/openapi.json", OpenApiDocuments.RenderAsync).WithName("GetOpenApiDocument").ExcludeFromDescription();
        // Listening from the start, so that /metrics counts everything since.
        _ = app.ServiceProvider.GetRequiredService<Gantry.Server.Telemetry.MetricsCollector>();
        root.MapGet("/metrics", MetricsEndpoint.RenderAsync).WithTags("Operations").WithName("GetMetrics").Produces<string>(StatusCodes.Status200OK, "text/plain")
            .RequireApiAuthorization().WithMetadata(new RequiredScope(ApiScope.Read));
        root.MapGet("/health/live", () => TypedResults.Ok(new HealthView("live"))).WithTags("Health").WithName("GetLiveness");
        // Ready when the store answers a cheap indexed query (and so is reachable and migrated).
        // Open to all, it names the store (and why it fails) only to a caller who may read the API.
        root.MapGet("/health/ready", async (HttpContext http, IJobStore store, CancellationToken ct) =>
        {
            var options = ApiAuthorization.OptionsOf(http);
            var presented = options.Tokens.Count == 0 ? default : ApiAuthorization.Authenticate(http, options);
            if (presented.Refusal is { } tooMany) return tooMany;
            var reader = options.Tokens.Count == 0 || presented.Token?.Allows(ApiScope.Read) == true;
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

/// <summary>A worker's health answers, written without reflection.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(GantryApi.StatusOnly))]
internal sealed partial class StatusOnlyJson : System.Text.Json.Serialization.JsonSerializerContext;
