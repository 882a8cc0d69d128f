using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>
/// Failed authentications per client address, on every endpoint that asks for a token (the API, <c>/metrics</c>, the
/// dashboard's session): an unknown bearer token or a stale session cookie spends one of the address's
/// <see cref="ApiOptions.FailedAuthenticationsPerMinute"/> in a fixed one-minute window (ASP.NET Core's rate limiter, a
/// partition per address as for the sign-in), and once none is left each is answered 429 problem details with
/// <c>Retry-After</c> until the window ends. A request with a valid token spends nothing and is never slowed; but while
/// its address is locked out, a bearer token that address had not used successfully before is answered 429 too, or a
/// guesser would learn from 200 against 429 what the lockout hides. So a client already at work keeps working beside a
/// misconfigured or hostile one on its machine. Behind a reverse proxy every client has the proxy's address unless
/// the app applies forwarded headers first.
/// </summary>
internal sealed class FailedAuthentications : IDisposable
{
    /// <summary>How long a token that succeeded from an address is still let through that address's lockout.</summary>
    private static readonly TimeSpan Trust = TimeSpan.FromHours(1);

    private readonly PartitionedRateLimiter<HttpContext> _limiter;
    private readonly ConcurrentDictionary<(string Address, ApiToken Token), long> _succeeded = new();
    private readonly TimeProvider _time;

    public FailedAuthentications(ApiOptions options, TimeProvider time)
    {
        _time = time;
        _limiter = PartitionedRateLimiter.Create<HttpContext, string>(http => PerAddress(http, options.FailedAuthenticationsPerMinute));
    }

    /// <summary>A fixed one-minute window of <paramref name="permits"/> for the request's client address.</summary>
    public static RateLimitPartition<string> PerAddress(HttpContext http, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(Address(http), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });

    private static string Address(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>Counts a failed authentication: null while the address has failures left, else the 429 answer.</summary>
    public IResult? Fail(HttpContext http)
    {
        using var lease = _limiter.AttemptAcquire(http, 1);
        return lease.IsAcquired ? null : TooManyRequests(http, lease, "too many failed authentications from this address");
    }

    /// <summary>A valid bearer token: null to let it through, or the 429 answer while its address is locked out and had not used it.</summary>
    public IResult? Succeed(HttpContext http, ApiToken token)
    {
        var key = (Address(http), token);
        var now = _time.GetTimestamp();
        if (_succeeded.TryGetValue(key, out var at) && _time.GetElapsedTime(at, now) < Trust)
        {
            // Refreshed at most once a second: a busy client does not write on every request.
            if (_time.GetElapsedTime(at, now) > TimeSpan.FromSeconds(1)) _succeeded[key] = now;
            return null;
        }
        using (var lease = _limiter.AttemptAcquire(http, 0))
            if (!lease.IsAcquired) return TooManyRequests(http, lease, "too many failed authentications from this address");
        _succeeded[key] = now;
        if (_succeeded.Count > 4096)
            foreach (var (old, seen) in _succeeded)
                if (_time.GetElapsedTime(seen, now) >= Trust) _succeeded.TryRemove(old, out _);
        return null;
    }

    /// <summary>429 problem details with <c>Retry-After</c> (whole seconds until the window ends): the one answer of every rate limit here.</summary>
    public static IResult TooManyRequests(HttpContext http, RateLimitLease lease, string why)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
        var seconds = (int)Math.Ceiling(Math.Max(1, wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return ApiProblems.Problem(StatusCodes.Status429TooManyRequests, "Too many requests", $"{why}: try again in {seconds} s");
    }

    public void Dispose() => _limiter.Dispose();
}
