using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Gantry.Server.Api;

/// <summary>What <c>/openapi.json</c> says beyond each endpoint's own metadata: its title and the bearer scheme every call takes.</summary>
internal static class OpenApiDocuments
{
    public const string Bearer = "bearer";

    /// <summary>The API's OpenAPI document and the group name of its endpoints: apart from any document of the app's.</summary>
    public const string Name = "gantry";

    /// <summary>
    /// The document's schemas name members as the API writes them: its schema service is given Gantry's JSON options
    /// (<see cref="GantryApiServices"/>) instead of the app's.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2072",
        Justification = "The type is the one Microsoft.AspNetCore.OpenApi registered itself with AddKeyedSingleton<T>, which keeps its public constructors.")]
    public static void SchemasWithGantryJson(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (!descriptor.IsKeyedService || !Equals(descriptor.ServiceKey, Name) || descriptor.ServiceType.Name != "OpenApiSchemaService") continue;
            var type = descriptor.ServiceType;
            services[i] = ServiceDescriptor.KeyedSingleton(type, Name, (sp, _) =>
                ActivatorUtilities.CreateInstance(sp, type, Name, sp.GetRequiredService<GantryApiServices>().Json));
            return;
        }
    }

    /// <summary><c>GET /openapi.json</c>: the API's own document, whatever documents the app serves besides.</summary>
    public static async Task<IResult> RenderAsync(HttpContext http, IOptionsMonitor<OpenApiOptions> options, CancellationToken ct)
    {
        var provider = http.RequestServices.GetRequiredKeyedService<IOpenApiDocumentProvider>(Name);
        var document = await provider.GetOpenApiDocumentAsync(ct).ConfigureAwait(false);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        await document.SerializeAsync(new OpenApiJsonWriter(text), options.Get(Name).OpenApiVersion, ct).ConfigureAwait(false);
        return TypedResults.Text(text.ToString(), "application/json", System.Text.Encoding.UTF8);
    }

    /// <summary>
    /// Strings are read through <see cref="Gantry.Serialization.TextFieldConverter"/> (no NUL), which hides
    /// from the schema exporter that they are strings: said again here, so that clients type them.
    /// </summary>
    public static Task TypeStringsAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonTypeInfo.Type == typeof(string) && schema.Type is null)
        {
            schema.Type = JsonSchemaType.String;
            if (context.JsonPropertyInfo is { } property && IsNullable(property)) schema.Type |= JsonSchemaType.Null;
        }
        return Task.CompletedTask;
    }

    private static bool IsNullable(System.Text.Json.Serialization.Metadata.JsonPropertyInfo property) =>
        property.AttributeProvider is System.Reflection.MemberInfo member && new System.Reflection.NullabilityInfoContext() is var nullability && member switch
        {
            System.Reflection.PropertyInfo p => nullability.Create(p).ReadState == System.Reflection.NullabilityState.Nullable,
            System.Reflection.FieldInfo f => nullability.Create(f).ReadState == System.Reflection.NullabilityState.Nullable,
            _ => false,
        };

    public static Task DescribeAsync(OpenApiDocument doc, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        doc.Info.Title = "Gantry API";
        doc.Info.Description = "Submit and control background jobs. Errors are RFC 9457 problem details naming the field (`field`). "
            + "Calls take `Authorization: Bearer <token>` when tokens are configured; an open API (no token) is served on loopback only. "
            + "Bodies are application/json.";
        doc.Components ??= new OpenApiComponents();
        doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        doc.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A token of scope read, submit, worker or admin (GANTRY_TOKENS or the config file's tokens); not needed when none is configured.",
        };
        doc.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, doc)] = [] }];
        return Task.CompletedTask;
    }
}
