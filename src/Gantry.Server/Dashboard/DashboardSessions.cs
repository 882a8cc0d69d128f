using System.Security.Cryptography;
using Gantry.Server.Api;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Dashboard;

/// <summary>
/// The dashboard's sign-in: a token presented once becomes an HttpOnly, SameSite=Strict cookie holding a
/// data-protected ticket of the token's identity (its name, scope and a fingerprint of its hash, never the token).
/// A ticket whose token is no longer configured (removed or rotated) is refused. Calls that change something with
/// a session must carry ASP.NET Core's anti-forgery token (header <see cref="AntiforgeryHeader"/>) and need the
/// admin scope: a session with a read token sees everything and changes nothing.
/// </summary>
internal static class DashboardSessions
{
    public const string CookieName = "gantry_session";

    /// <summary>The header a page sends the anti-forgery token in: ASP.NET Core's default, so an app's own settings apply.</summary>
    public const string AntiforgeryHeader = "RequestVerificationToken";

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private const string Purpose = "Gantry.Dashboard.Session.v1";

    private static IDataProtector Protector(HttpContext http) =>
        http.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);

    /// <summary>Sets the session cookie for <paramref name="token"/>, scoped to <paramref name="path"/>.</summary>
    public static void SignIn(HttpContext http, ApiToken token, string path)
    {
        var expires = DateTimeOffset.UtcNow + Lifetime;
        var ticket = $"{token.Name}\n{token.Scope}\n{Fingerprint(token)}\n{expires.ToUnixTimeSeconds()}";
        http.Response.Cookies.Append(CookieName, Protector(http).Protect(ticket), Cookie(http, path, expires));
    }

    public static void SignOut(HttpContext http, string path) =>
        http.Response.Cookies.Delete(CookieName, Cookie(http, path, null));

    private static CookieOptions Cookie(HttpContext http, string path, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = path,
        Expires = expires,
        IsEssential = true,
    };

    /// <summary>The configured token a request's session cookie stands for; null without a cookie, or for a stale or forged one.</summary>
    public static ApiToken? Read(HttpContext http, ApiOptions options)
    {
        if (!http.Request.Cookies.TryGetValue(CookieName, out var cookie) || string.IsNullOrEmpty(cookie)) return null;
        string ticket;
        try
        {
            ticket = Protector(http).Unprotect(cookie);
        }
        catch (CryptographicException)
        {
            return null;
        }
        var parts = ticket.Split('\n');
        if (parts.Length != 4 || !long.TryParse(parts[3], out var expires) || DateTimeOffset.FromUnixTimeSeconds(expires) < DateTimeOffset.UtcNow) return null;
        return options.Tokens.FirstOrDefault(t => t.Name == parts[0] && t.Scope.ToString() == parts[1] && Fingerprint(t) == parts[2]);
    }

    /// <summary>A short fingerprint of the token's hash: a ticket outlives neither the token's removal nor its rotation.</summary>
    private static string Fingerprint(ApiToken token) => Convert.ToHexString(SHA256.HashData(token.Sha256), 0, 8);

    /// <summary>Whether the request carries a valid anti-forgery token (header, with its cookie).</summary>
    public static Task<bool> AntiforgeryValidAsync(HttpContext http) =>
        http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http);

    /// <summary>A fresh request token for the page (and its cookie on the response).</summary>
    public static string? AntiforgeryToken(HttpContext http) =>
        http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http).RequestToken;
}
