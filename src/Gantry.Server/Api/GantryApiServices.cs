using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Gantry.Server.Api;

/// <summary>
/// What the Gantry API's endpoints see in place of the app's own settings: Gantry's JSON options (snake_case, strict
/// reading) and throwing on a bad request, so that an app hosting the API keeps its own JSON and its own binding
/// behaviour. Minimal APIs read both from the services they are built with (body reading, non-<see cref="IResult"/>
/// returns, <c>ThrowOnBadRequest</c>) and, for <see cref="IResult"/>s, from <see cref="HttpContext.RequestServices"/>:
/// the endpoints are built on a <see cref="Routes"/> builder that offers these services, and <see cref="Filter"/> gives a
/// request to a Gantry endpoint the same view.
/// </summary>
internal sealed class GantryApiServices
{
    public IOptions<HttpJsonOptions> Json { get; } = Options.Create(CreateJson());

    public IOptions<RouteHandlerOptions> RouteHandler { get; } =
        Options.Create(new RouteHandlerOptions { ThrowOnBadRequest = true });

    private static HttpJsonOptions CreateJson()
    {
        var json = new HttpJsonOptions();
        var o = json.SerializerOptions;
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        // Types are resolved only from metadata made at build time (ApiJsonContext, the worker protocol's WireJson), never
        // by reflection: a Native AOT build then reads and writes every body as the JIT one does.
        o.TypeInfoResolverChain.Clear();
        o.TypeInfoResolverChain.Add(System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.WithAddedModifier(Gantry.Protocol.Wire.WireJson.Default, NullableMembersOptional));
        o.TypeInfoResolverChain.Add(System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.WithAddedModifier(ApiJsonContext.Default, NullableMembersOptional));
        // A body is read strictly: a key given twice, a required member missing or a NUL in text is bad input, never a guess.
        o.AllowDuplicateProperties = false;
        // A field the call does not take is refused by name, as in job documents: a typo is never silently dropped.
        o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        o.NumberHandling = JsonNumberHandling.Strict;
        // Payloads, results and dependency results as deep as a job's JSON may be, inside the calls that carry them.
        o.MaxDepth = Gantry.Protocol.JobLimits.MaxMessageDepth;
        o.RespectRequiredConstructorParameters = true;
        o.Converters.Add(new Gantry.Serialization.TextFieldConverter());
        return json;
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

    /// <summary>The services <paramref name="inner"/> offers, with Gantry's options in place of the app's.</summary>
    public IServiceProvider Over(IServiceProvider inner) => inner is Provider own && ReferenceEquals(own.Owner, this) ? inner : new Provider(inner, this);

    /// <summary>An endpoint filter: the request sees Gantry's options for the rest of its life (its result is written with them).</summary>
    public static ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        http.RequestServices = http.RequestServices.GetRequiredService<GantryApiServices>().Over(http.RequestServices);
        return next(context);
    }

    private sealed class Provider(IServiceProvider inner, GantryApiServices owner) : IServiceProvider, IKeyedServiceProvider
    {
        public GantryApiServices Owner => owner;

        public object? GetService(Type serviceType) =>
            serviceType == typeof(IOptions<HttpJsonOptions>) ? owner.Json
            : serviceType == typeof(IOptions<RouteHandlerOptions>) ? owner.RouteHandler
            : inner.GetService(serviceType);

        public object? GetKeyedService(Type serviceType, object? serviceKey) =>
            inner is IKeyedServiceProvider keyed ? keyed.GetKeyedService(serviceType, serviceKey) : null;

        public object GetRequiredKeyedService(Type serviceType, object? serviceKey) =>
            inner is IKeyedServiceProvider keyed ? keyed.GetRequiredKeyedService(serviceType, serviceKey)
                : throw new InvalidOperationException($"no keyed service {serviceType} ({serviceKey})");
    }

    /// <summary>
    /// An endpoint builder over the app's whose endpoints are built with Gantry's services. Endpoints are mapped on
    /// groups made from it (<see cref="EndpointRouteBuilderExtensions.MapGroup(IEndpointRouteBuilder, string)"/>): each
    /// group keeps its own data source, built with these services.
    /// </summary>
    public sealed class Routes(IEndpointRouteBuilder app, IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;
        public ICollection<EndpointDataSource> DataSources => app.DataSources;
        public IApplicationBuilder CreateApplicationBuilder() => app.CreateApplicationBuilder();
    }
}
