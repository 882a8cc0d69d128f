using System.Threading.RateLimiting;
using Gantry.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Dashboard;

/// <summary>
/// How often one client address may try to sign in (<c>POST {prefix}/dashboard/session</c>): beyond loopback a guessed
/// token is the attack, so each address gets <see cref="ApiOptions.SignInAttemptsPerMinute"/> attempts in a fixed
/// one-minute window, then 429 problem details with <c>Retry-After</c> until the window ends. ASP.NET Core's rate
/// limiter does the counting (a named policy on the endpoint, its middleware on the dashboard's paths only).
/// A wrong token also counts as a failed authentication of the address (<see cref="FailedAuthentications"/>), as on any
/// other endpoint. Behind a reverse proxy every client has the proxy's address unless the app applies forwarded headers first.
/// </summary>
internal sealed class SignInRateLimit(ApiOptions options) : IRateLimiterPolicy<string>
{
    /// <summary>The policy's name on the sign-in endpoint.</summary>
    public const string Policy = "gantry-dashboard-sign-in";

    public RateLimitPartition<string> GetPartition(HttpContext http) => FailedAuthentications.PerAddress(http, options.SignInAttemptsPerMinute);

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => static (context, ct) =>
        new(FailedAuthentications.TooManyRequests(context.HttpContext, context.Lease, "too many sign-in attempts from this address").ExecuteAsync(context.HttpContext));

    /// <summary>Registers the policy with the app's rate limiter (added once; an app's own policies stay as they are).</summary>
    internal static void AddTo(IServiceCollection services) =>
        services.AddRateLimiter(o => o.AddPolicy<string, SignInRateLimit>(Policy));

    /// <summary>Puts the rate limiter's middleware on the requests under <paramref name="prefix"/>'s dashboard paths, once.</summary>
    internal static void Use(IApplicationBuilder app, string prefix)
    {
        var key = "Gantry.Dashboard.SignInRateLimit" + prefix;
        if (app.Properties.ContainsKey(key)) return;
        app.Properties[key] = true;
        var path = prefix + "/dashboard/session";
        app.UseWhen(http => http.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase), branch => branch.UseRateLimiter());
    }
}
