using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using Gantry.Server.Api;
using Gantry.Server.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The dashboard: <c>app.MapGantryDashboard()</c> (or <c>("/gantry")</c>) beside <c>app.MapGantryApi()</c> with the same
/// prefix. Its page and scripts are embedded in this assembly (no CDN, no build step); it reads and acts through the
/// API under the same prefix, and so with the API's rules (tokens, scopes, host and origin checks). With tokens
/// configured a token signs in once and becomes a session cookie (<see cref="DashboardSessions"/>).
/// </summary>
public static class GantryDashboard
{
    /// <summary>The embedded files, by name: contents, media type and entity tag. Read at the first request for one, so that
    /// a process whose dashboard nobody opens holds no copy of them and loads no cryptography library (the tags are SHA-256).</summary>
    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(LoadAssets);

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private const string ResourcePrefix = "Gantry.Dashboard/";

    /// <summary>
    /// The page's rules: its own scripts, styles and API only; no frame may embed it (clickjacking), no inline script.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>
    /// Serves the dashboard at <paramref name="prefix"/> (<c>/</c> by default): the page at the prefix, its files under
    /// <c>{prefix}/dashboard/</c>, and the sign-in (<c>{prefix}/dashboard/session</c>). The API must be mapped with the
    /// same prefix (<c>MapGantryApi(prefix)</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapGantryDashboard(this IEndpointRouteBuilder app, string prefix = "")
    {
        prefix = GantryApi.NormalPrefix(prefix);
        GantryApi.Guard(app, prefix);
        var root = app.MapGroup(prefix.Length == 0 ? "/" : prefix).ExcludeFromDescription();
        var cookiePath = prefix.Length == 0 ? "/" : prefix + "/";
        // The page's files are named relative to it: under a prefix it must be at "/gantry/", not "/gantry".
        root.MapGet("/", (HttpContext http) => prefix.Length > 0 && !http.Request.Path.Value!.EndsWith('/')
            ? Results.Redirect(http.Request.PathBase + prefix + "/") : Serve(http, "index.html"));
        root.MapGet("/dashboard/{file}", (string file, HttpContext http) => Serve(http, file));
        root.MapGet("/dashboard/session", Session);
        if (app is IApplicationBuilder pipeline) SignInRateLimit.Use(pipeline, prefix);
        root.MapPost("/dashboard/session", async (HttpContext http, ApiOptions options, CancellationToken ct) => await SignInAsync(http, options, cookiePath, ct).ConfigureAwait(false))
            .RequireRateLimiting(SignInRateLimit.Policy);
        root.MapPost("/dashboard/session/end", (HttpContext http) =>
        {
            DashboardSessions.SignOut(http, cookiePath);
            return Results.NoContent();
        });
        return app;
    }

    private static IResult Serve(HttpContext http, string file)
    {
        if (!Assets.Value.TryGetValue(file, out var asset))
            return ApiProblems.Problem(StatusCodes.Status404NotFound, "Not found", $"no such dashboard file: {file}");
        var headers = http.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        if (file.EndsWith(".html", StringComparison.Ordinal))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
        }
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    /// <summary>
    /// What the page needs to know of its viewer: whether the API is open, who is signed in with which scope, whether
    /// it may act, whether payloads are hidden from it, and an anti-forgery token for its actions.
    /// </summary>
    private static IResult Session(HttpContext http, ApiOptions options)
    {
        // Never cached (anti-forgery sets the same headers itself where it gives a token).
        if (options.Tokens.Count == 0) http.Response.Headers.CacheControl = "no-store";
        if (options.Tokens.Count == 0)
            return Results.Json(new SessionView(true, true, null, "admin", true, false, null), DashboardJsonContext.Default.SessionView);
        var presented = ApiAuthorization.Authenticate(http, options);
        if (presented.Refusal is { } tooMany) return tooMany;
        var token = presented.Token;
        if (token is null) http.Response.Headers.CacheControl = "no-store";
        if (token is null) return Results.Json(new SessionView(false, false, null, null, false, false, null), DashboardJsonContext.Default.SessionView);
        return Results.Json(new SessionView(false, true, token.Name, Scope(token), token.Scope == ApiScope.Admin,
            options.HidePayloadsFromReaders && token.Scope == ApiScope.Read, DashboardSessions.AntiforgeryToken(http)), DashboardJsonContext.Default.SessionView);
    }

    private static async Task<IResult> SignInAsync(HttpContext http, ApiOptions options, string cookiePath, CancellationToken ct)
    {
        if (options.Tokens.Count == 0)
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid input", "the API is open (no tokens configured): there is nothing to sign in to", "token");
        var text = await RequestBody.ReadAsync(http.Request, options, ct).ConfigureAwait(false);
        string? secret = null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String)
                secret = t.GetString();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Answered below as a missing token (InvalidOperationException: a string escaping a lone surrogate).
        }
        if (string.IsNullOrWhiteSpace(secret))
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid input", "token: is required (a JSON object {\"token\": \"...\"})", "token");
        var token = ApiAuthorization.Find(options, secret);
        if (token is null)
            return http.RequestServices.GetRequiredService<FailedAuthentications>().Fail(http)
                ?? ApiProblems.Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "the token is not valid", "token");
        if (token.Scope == ApiScope.Worker)
            return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden", "a worker token cannot sign in to the dashboard: use a read or admin token", "token");
        DashboardSessions.SignIn(http, token, cookiePath);
        return Results.Json(new SessionView(false, true, token.Name, Scope(token), token.Scope == ApiScope.Admin,
            options.HidePayloadsFromReaders && token.Scope == ApiScope.Read, null), DashboardJsonContext.Default.SessionView);
    }

    private static string Scope(ApiToken token) => token.Scope.ToString().ToLowerInvariant();

    /// <summary>The body of <c>/dashboard/session</c>, written through <see cref="DashboardJsonContext"/>.</summary>
    internal sealed record SessionView(bool Open, bool SignedIn, string? Name, string? Scope, bool CanAct, bool HidePayloads, string? Antiforgery);

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        var assembly = typeof(GantryDashboard).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var file = name[ResourcePrefix.Length..];
            assets[file] = new Asset(bytes, ContentType(file), $"\"{Convert.ToHexString(SHA256.HashData(bytes), 0, 8)}\"");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };
}
