using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>What a token may do. Each scope includes the ones it lists.</summary>
public enum ApiScope
{
    /// <summary>Read jobs, queues and workers.</summary>
    Read,
    /// <summary>Read, and submit, cancel and retry jobs.</summary>
    Submit,
    /// <summary>The worker protocol only.</summary>
    Worker,
    /// <summary>Everything: also pause, resume and drain.</summary>
    Admin,
}

/// <summary>A configured token, kept as its SHA-256 only.</summary>
public sealed record ApiToken(string Name, ApiScope Scope, byte[] Sha256)
{
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Parses <c>GANTRY_TOKENS</c>: comma-separated <c>scope:token</c> (e.g. <c>admin:s3cr3t,submit:abc</c>).</summary>
    public static IReadOnlyList<ApiToken> ParseList(string? text, string where = "GANTRY_TOKENS")
    {
        var tokens = new List<ApiToken>();
        foreach (var (entry, i) in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select((e, i) => (e, i)))
        {
            var colon = entry.IndexOf(':');
            if (colon <= 0 || colon == entry.Length - 1 || !Enum.TryParse<ApiScope>(entry[..colon], ignoreCase: true, out var scope))
                throw new InvalidInputException($"{where}[{i}]", "expected scope:token with a scope of read, submit, worker or admin");
            var token = entry[(colon + 1)..];
            if (token.Length < 8) throw new InvalidInputException($"{where}[{i}]", "a token must be at least 8 characters");
            tokens.Add(new ApiToken($"{scope.ToString().ToLowerInvariant()}-{i}", scope, Hash(token)));
        }
        return tokens;
    }

    public bool Allows(ApiScope required) => Scope == ApiScope.Admin || Scope == required
        || (Scope == ApiScope.Submit && required == ApiScope.Read);
}

/// <summary>Endpoint metadata: the scope a call needs.</summary>
public sealed record RequiredScope(ApiScope Scope);

/// <summary>
/// Checks <c>Authorization: Bearer …</c> against the configured tokens: none or unknown → 401,
/// a token without the scope → 403. With no token configured the API is open (and only ever
/// served on loopback: the host refuses anything else).
/// </summary>
internal static class ApiAuthorization
{
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var options = Options(http);
        if (options.Tokens.Count == 0) return await next(context).ConfigureAwait(false);
        var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>()?.Scope ?? ApiScope.Admin;
        var header = http.Request.Headers.Authorization.ToString();
        ApiToken? token;
        if (header.Length == 0 && Gantry.Server.Dashboard.DashboardSessions.Read(http, options) is { } session)
        {
            // A dashboard session (cookie): a call that changes something carries the anti-forgery token and needs admin.
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                if (!await Gantry.Server.Dashboard.DashboardSessions.AntiforgeryValidAsync(http).ConfigureAwait(false))
                    return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                        $"a dashboard session's call that changes something must carry a valid anti-forgery token ({Gantry.Server.Dashboard.DashboardSessions.AntiforgeryHeader})",
                        Gantry.Server.Dashboard.DashboardSessions.AntiforgeryHeader);
                if (session.Scope != ApiScope.Admin)
                    return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden", $"actions from the dashboard need an admin token; this session has {session.Scope.ToString().ToLowerInvariant()}");
            }
            token = session;
        }
        else
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return Unauthorized(http, "a bearer token is required (Authorization: Bearer <token>)");
            token = Presented(options, header);
            if (token is null) return Unauthorized(http, "the token is not valid");
        }
        if (!token.Allows(required))
            return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden", $"this call needs the {required.ToString().ToLowerInvariant()} scope; the token has {token.Scope.ToString().ToLowerInvariant()}");
        http.Items[CallerKey] = token;
        return await next(context).ConfigureAwait(false);
    }

    private static readonly object CallerKey = new();

    /// <summary>The token (bearer or dashboard session) the request was authorized with; null on an open API or before authorization.</summary>
    public static ApiToken? Caller(HttpContext http) => http.Items.TryGetValue(CallerKey, out var t) ? t as ApiToken : null;

    /// <summary>Whether payloads and results are hidden from this caller: a read-only caller while the options say so.</summary>
    public static bool HidesPayloads(HttpContext http) => Options(http).HidePayloadsFromReaders && Caller(http)?.Scope == ApiScope.Read;

    /// <summary>Whether the caller may make a call that needs <paramref name="scope"/>: always on an open API, else by its token or dashboard session.</summary>
    public static bool Allows(HttpContext http, ApiScope scope)
    {
        var options = Options(http);
        if (options.Tokens.Count == 0) return true;
        return Identify(http, options)?.Allows(scope) == true;
    }

    /// <summary>The token a request presents (bearer header, else a dashboard session cookie); null for none or an unknown one.</summary>
    public static ApiToken? Identify(HttpContext http, ApiOptions options)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0) return Gantry.Server.Dashboard.DashboardSessions.Read(http, options);
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? Presented(options, header) : null;
    }

    /// <summary>The configured token whose secret is <paramref name="secret"/>; null for none.</summary>
    public static ApiToken? Find(ApiOptions options, string secret)
    {
        var presented = ApiToken.Hash(secret.Trim());
        return options.Tokens.FirstOrDefault(t => CryptographicOperations.FixedTimeEquals(t.Sha256, presented));
    }

    public static ApiOptions OptionsOf(HttpContext http) => Options(http);

    /// <summary>Who makes the call, for the audit log: the name of the token it presents (bearer header or dashboard
    /// session); <c>loopback</c> on an API open without tokens; or what a caller put in <see cref="ApiAudit.ActorItem"/>.</summary>
    public static string Actor(HttpContext http)
    {
        if (http.Items[ApiAudit.ActorItem] is string actor) return actor;
        var options = Options(http);
        if (options.Tokens.Count == 0) return "loopback";
        return Identify(http, options)?.Name ?? "unknown";
    }

    private static ApiOptions Options(HttpContext http) => http.RequestServices.GetService(typeof(ApiOptions)) as ApiOptions ?? new ApiOptions();

    private static ApiToken? Presented(ApiOptions options, string header) => Find(options, header["Bearer ".Length..]);

    private static IResult Unauthorized(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ApiProblems.Problem(StatusCodes.Status401Unauthorized, "Unauthorized", detail);
    }
}
