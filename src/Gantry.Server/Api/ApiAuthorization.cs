using System.Security.Cryptography;
using Gantry.Server.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>
/// Checks <c>Authorization: Bearer …</c> (or a dashboard session cookie) against the configured tokens: none → 401, an
/// unknown token or a stale session → 401 and counted against the client's address (<see cref="FailedAuthentications"/>:
/// 429 once it has too many), a token without the scope → 403. With no token configured the API is open (and only
/// ever served on loopback: the host refuses anything else).
/// <para>
/// The check comes before anything else of the endpoint: <see cref="RequireApiAuthorization{TBuilder}"/> wraps the
/// endpoint's whole request delegate (its parameter binding, its filters), and <see cref="ApiGuard"/> asks first, before it
/// looks at the body's media type or the query. A caller without the scope is refused 403 whatever it sends.
/// </para>
/// </summary>
internal static class ApiAuthorization
{
    /// <summary>Endpoint metadata: the endpoint asks for a token (<see cref="RequiredScope"/> says which scope; admin without it).</summary>
    public sealed class Required
    {
        public static readonly Required Instance = new();

        private Required()
        {
        }
    }

    /// <summary>Puts the endpoints of <paramref name="builder"/> behind the check: it runs before their binding and filters.</summary>
    public static TBuilder RequireApiAuthorization<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(Required.Instance);
            var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException($"{endpoint.DisplayName} has no request delegate to guard");
            endpoint.RequestDelegate = async http =>
            {
                if (await CheckAsync(http).ConfigureAwait(false) is { } refusal)
                {
                    await refusal.ExecuteAsync(http).ConfigureAwait(false);
                    return;
                }
                await inner(http).ConfigureAwait(false);
            };
        });
        return builder;
    }

    /// <summary>Whether the request's endpoint asks for a token (<see cref="RequireApiAuthorization{TBuilder}"/>).</summary>
    public static bool IsRequired(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<Required>() is not null;

    private static readonly object CallerKey = new();
    private static readonly object CheckedKey = new();

    /// <summary>
    /// The answer refusing the request, or null when it may go on (and then <see cref="Caller"/> names its token). Once per
    /// request: the guard's check and the endpoint's are one.
    /// </summary>
    public static async ValueTask<IResult?> CheckAsync(HttpContext http)
    {
        if (http.Items.ContainsKey(CheckedKey)) return null;
        var options = Options(http);
        if (options.Tokens.Count > 0)
        {
            var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>()?.Scope ?? ApiScope.Admin;
            var presented = Authenticate(http, options);
            if (presented.Refusal is { } refusal) return refusal;
            if (presented.Token is not { } token) return Unauthorized(http, presented.Failure ?? "a bearer token is required (Authorization: Bearer <token>)");
            // A dashboard session's call that changes something carries the anti-forgery token and needs admin.
            if (presented.BySession && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                if (!await DashboardSessions.AntiforgeryValidAsync(http).ConfigureAwait(false))
                    return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                        $"a dashboard session's call that changes something must carry a valid anti-forgery token ({DashboardSessions.AntiforgeryHeader})",
                        DashboardSessions.AntiforgeryHeader);
                if (token.Scope != ApiScope.Admin)
                    return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden", $"actions from the dashboard need an admin token; this session has {token.Scope.ToString().ToLowerInvariant()}");
            }
            if (!token.Allows(required))
                return ApiProblems.Problem(StatusCodes.Status403Forbidden, "Forbidden", $"this call needs the {required.ToString().ToLowerInvariant()} scope; the token has {token.Scope.ToString().ToLowerInvariant()}");
            http.Items[CallerKey] = token;
        }
        http.Items[CheckedKey] = true;
        return null;
    }

    /// <summary>What a request presents: the token it stands for (null for none or a bad one), whether by a dashboard session,
    /// why a presented credential failed, and the 429 that refuses it when its address has failed too often.</summary>
    public readonly record struct Presented(ApiToken? Token, bool BySession, string? Failure, IResult? Refusal);

    /// <summary>
    /// The token a request presents (bearer header, else a dashboard session cookie). A bad one (an unknown token, a stale or
    /// forged session) is counted against the client's address, and refused 429 once it has failed too often; so is a
    /// valid bearer token that address has not used before its lockout, or 429 against 200 would tell a guesser what 401 does.
    /// </summary>
    public static Presented Authenticate(HttpContext http, ApiOptions options)
    {
        var failures = http.RequestServices.GetService(typeof(FailedAuthentications)) as FailedAuthentications;
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            if (!http.Request.Cookies.ContainsKey(DashboardSessions.CookieName)) return default;
            if (DashboardSessions.Read(http, options) is { } session) return new(session, true, null, null);
            // A session cookie cannot be guessed (data protection), but a stale or forged one is a failed authentication all the same.
            return new(null, true, "the dashboard session is not valid (signed out, expired or from before a restart): sign in again", failures?.Fail(http));
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return new(null, false, "a bearer token is required (Authorization: Bearer <token>)", null);
        if (Find(options, header["Bearer ".Length..]) is not { } token)
            return new(null, false, "the token is not valid", failures?.Fail(http));
        return failures?.Succeed(http, token) is { } locked ? new(null, false, null, locked) : new(token, false, null, null);
    }

    /// <summary>The token (bearer or dashboard session) the request was authorized with; null on an open API or before authorization.</summary>
    public static ApiToken? Caller(HttpContext http) => http.Items.TryGetValue(CallerKey, out var t) ? t as ApiToken : null;

    /// <summary>Whether payloads and results are hidden from this caller: a read-only caller while the options say so.</summary>
    public static bool HidesPayloads(HttpContext http) => Options(http).HidePayloadsFromReaders && Caller(http)?.Scope == ApiScope.Read;

    /// <summary>The configured token whose secret is <paramref name="secret"/>; null for none.</summary>
    public static ApiToken? Find(ApiOptions options, string secret)
    {
        var presented = ApiToken.Hash(secret.Trim());
        return options.Tokens.FirstOrDefault(t => CryptographicOperations.FixedTimeEquals(t.Sha256, presented));
    }

    public static ApiOptions OptionsOf(HttpContext http) => Options(http);

    /// <summary>Who makes the call, for the audit log: the name of the token it was authorized with (bearer header or
    /// dashboard session); <c>loopback</c> on an API open without tokens; or what a caller put in <see cref="ApiAudit.ActorItem"/>.</summary>
    public static string Actor(HttpContext http)
    {
        if (http.Items[ApiAudit.ActorItem] is string actor) return actor;
        var options = Options(http);
        if (options.Tokens.Count == 0) return "loopback";
        return (Caller(http) ?? Authenticate(http, options).Token)?.Name ?? "unknown";
    }

    private static ApiOptions Options(HttpContext http) => http.RequestServices.GetService(typeof(ApiOptions)) as ApiOptions ?? new ApiOptions();

    private static IResult Unauthorized(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ApiProblems.Problem(StatusCodes.Status401Unauthorized, "Unauthorized", detail);
    }
}
