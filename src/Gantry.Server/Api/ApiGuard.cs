using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Api;

/// <summary>
/// What every request to a Gantry HTTP surface passes before its endpoint, and how every answer
/// that is not the endpoint's own leaves:
/// <list type="bullet">
/// <item>on an open API (no tokens) the <c>Host</c> must be a loopback name, the address the request reached, or an
/// allowed host (<see cref="ApiOptions.AllowedHosts"/>): a DNS-rebound page is refused (400). Behind tokens any
/// <c>Host</c> is answered (a rebound page has no token) unless allowed hosts are given, which are then enforced;</item>
/// <item>a body must be JSON (415): a form or <c>text/plain</c> post, which a browser sends cross-site without asking, is refused;</item>
/// <item>an endpoint that asks for a token is authorized here first (<see cref="ApiAuthorization"/>), before the body and the query are looked at;</item>
/// <item>a state-changing call from a browser on another origin (<c>Origin</c>, <c>Sec-Fetch-Site: cross-site</c>) is refused
/// (403) unless the origin is in <see cref="ApiOptions.CorsOrigins"/>, which also answers CORS preflights;</item>
/// <item>a query parameter the endpoint does not take is refused (400 naming it);</item>
/// <item>a name in the path with an encoded slash (<c>team%2Fmail</c>) is bound as the client wrote it (<see cref="ApiRoute"/>);</item>
/// <item>a bad body or parameter (binding), an unknown route (404), a wrong method (405) and any error
/// answer as RFC 9457 problem details; a 5xx only when Gantry itself is broken.</item>
/// </list>
/// </summary>
internal sealed partial class ApiGuard(RequestDelegate next, ApiOptions options, ILogger<ApiGuard> logger)
{
    private static readonly string[] SafeMethods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Options];

    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            if (await RefusalAsync(http).ConfigureAwait(false) is { } refusal)
            {
                await refusal.ExecuteAsync(http).ConfigureAwait(false);
                return;
            }
            await next(http).ConfigureAwait(false);
            if (!http.Response.HasStarted && http.Response.StatusCode >= 400 && http.Response.ContentType is null && http.Response.ContentLength is null or 0)
                await EmptyError(http).ExecuteAsync(http).ConfigureAwait(false);
        }
        catch (Exception ex) when (!http.Response.HasStarted && !(ex is OperationCanceledException && http.RequestAborted.IsCancellationRequested))
        {
            if (ex is not (GantryException or BadHttpRequestException)) UnexpectedError(logger, http.Request.Method, http.Request.Path, ex);
            http.Response.Clear();
            await (ex is BadHttpRequestException bad ? BadRequest(bad) : ApiProblems.From(ex)).ExecuteAsync(http).ConfigureAwait(false);
        }
    }

    private async ValueTask<IResult?> RefusalAsync(HttpContext http)
    {
        ApiRoute.Decode(http);
        var request = http.Request;
        if (!HostAllowed(http))
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Host not allowed",
                $"this server does not answer to host '{request.Host.Host}': use a loopback address or the address it listens on, or allow the name (--allowed-hosts)", "Host");

        var origin = request.Headers.Origin.ToString();
        var corsAllowed = origin.Length > 0 && options.CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);
        if (corsAllowed)
        {
            http.Response.Headers.AccessControlAllowOrigin = origin;
            http.Response.Headers.Vary = "Origin";
            if (HttpMethods.IsOptions(request.Method) && request.Headers.AccessControlRequestMethod.Count > 0)
            {
                http.Response.Headers.AccessControlAllowMethods = "GET, POST";
                http.Response.Headers.AccessControlAllowHeaders = "Authorization, Content-Type";
                http.Response.Headers.AccessControlMaxAge = "600";
                return TypedResults.NoContent();
            }
        }
        // Who calls, before what it sends: a caller without the scope is refused whatever its body or query.
        if (ApiAuthorization.IsRequired(http) && await ApiAuthorization.CheckAsync(http).ConfigureAwait(false) is { } unauthorized) return unauthorized;
        if (!corsAllowed && !SafeMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase) && CrossSite(http) is { } why)
            return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Cross-site request refused",
                $"{why}; a browser page on another site may not change anything here (allow its origin with --cors-origins)", why.StartsWith("Sec-", StringComparison.Ordinal) ? "Sec-Fetch-Site" : "Origin");

        var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        if ((hasBody || request.ContentType is not null) && !IsJson(request.ContentType))
            return ApiProblems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"a request body must be application/json, got '{request.ContentType ?? "none"}'", "Content-Type");

        return ApiQuery.Check(http) is { } query ? ApiProblems.From(query) : null;
    }

    /// <summary>
    /// Loopback names and addresses, the address the request reached (the listen address), and the allowed hosts.
    /// DNS rebinding only threatens an API that answers without credentials: a browser never sends a bearer token
    /// to a rebound origin, so behind tokens any name is answered (workers reach a server by its DNS name) unless
    /// the operator lists the names.
    /// </summary>
    private bool HostAllowed(HttpContext http)
    {
        if (options.Tokens.Count > 0 && options.AllowedHosts.Count == 0) return true;
        var host = http.Request.Host.Host;
        if (string.IsNullOrEmpty(host)) return false;
        if (options.AllowedHosts.Contains("*") || options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase)) return true;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var ip)) return false;
        if (IPAddress.IsLoopback(ip) || (ip.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(ip.MapToIPv4()))) return true;
        var local = http.Connection.LocalIpAddress;
        return local is not null && Normal(local).Equals(Normal(ip));
    }

    private static IPAddress Normal(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    /// <summary>Why the request comes from a browser page of another origin; null when it does not.</summary>
    private static string? CrossSite(HttpContext http)
    {
        var site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none")) return $"Sec-Fetch-Site is {site}";
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return null;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return $"Origin '{origin}' is not this server";
        var sameHost = string.Equals(uri.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            || (uri.IsDefaultPort && string.Equals(uri.Host, http.Request.Host.Host, StringComparison.OrdinalIgnoreCase) && http.Request.Host.Port is null);
        return sameHost ? null : $"Origin '{origin}' is not this server";
    }

    private static bool IsJson(string? contentType)
    {
        if (contentType is null) return false;
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A body or parameter the framework could not bind: the JSON path of the bad field, or what is missing.</summary>
    private static IResult BadRequest(BadHttpRequestException ex)
    {
        if (ex.StatusCode == StatusCodes.Status413PayloadTooLarge) return ApiProblems.From(ex);
        if (ex.InnerException is JsonException json)
        {
            var at = json.Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "";
            var missing = MissingField(json.Message) ?? UnknownField(json.Message, at);
            var field = missing is null ? (at.Length > 0 ? at : "body") : at.Length > 0 ? $"{at}.{missing}" : missing;
            var problem = json.InnerException is InvalidOperationException { Message: var m } && m.Contains("UTF-16", StringComparison.Ordinal)
                ? Gantry.Protocol.TextFields.SurrogateProblem : Describe(json.Message);
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid input", $"{field}: {problem}", field);
        }
        if (ex.Message.Contains("body was provided", StringComparison.Ordinal) || ex.Message.Contains("from body", StringComparison.Ordinal))
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, "Invalid input", "body: is required (a JSON object)", "body");
        return ApiProblems.Problem(ex.StatusCode, "Bad request", ex.Message);
    }

    /// <summary>The first property named in "… missing required properties including: 'x'".</summary>
    private static string? MissingField(string message)
    {
        var at = message.IndexOf("including: '", StringComparison.Ordinal);
        if (at < 0) return null;
        var start = at + "including: '".Length;
        var end = message.IndexOf('\'', start);
        return end > start ? message[start..end] : null;
    }

    /// <summary>The property named in "The JSON property 'x' could not be mapped…", unless the path already ends with it.</summary>
    private static string? UnknownField(string message, string at)
    {
        const string Head = "The JSON property '";
        if (!message.StartsWith(Head, StringComparison.Ordinal)) return null;
        var end = message.IndexOf('\'', Head.Length);
        var name = end > Head.Length ? message[Head.Length..end] : null;
        return name is null || at == name || at.EndsWith("." + name, StringComparison.Ordinal) ? null : name;
    }

    /// <summary>The serializer's message in the API's words: what is wrong with the field, never the .NET type it was read into.</summary>
    private static string Describe(string message)
    {
        if (message.Contains("missing required properties", StringComparison.Ordinal)) return "is required";
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal)) return "is not a field of this call";
        if (message.Contains("Duplicate propert", StringComparison.Ordinal)) return "is given more than once";
        if (message.Contains("could not be converted to", StringComparison.Ordinal)) return "has the wrong type, or a number out of range (see /openapi.json)";
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut].TrimEnd() : message;
    }

    /// <summary>An error the framework answered without a body (no route, wrong method, …), as problem details.</summary>
    private static IResult EmptyError(HttpContext http)
    {
        var request = http.Request;
        return http.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => ApiProblems.Problem(404, "Not found", $"no such route: {request.Method} {request.Path}"),
            StatusCodes.Status405MethodNotAllowed => ApiProblems.Problem(405, "Method not allowed",
                $"{request.Path} does not take {request.Method}{(http.Response.Headers.Allow.Count > 0 ? $" (it takes {http.Response.Headers.Allow})" : "")}"),
            var status => ApiProblems.Problem(status, ReasonPhrase(status), $"{request.Method} {request.Path} answered {status}"),
        };
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } p ? p : "Error";

    [LoggerMessage(EventId = 190, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void UnexpectedError(ILogger logger, string method, string path, Exception ex);
}
