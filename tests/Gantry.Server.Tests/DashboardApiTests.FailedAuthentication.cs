using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gantry.Server.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests;

// Failed authentications are rate limited per client address on every endpoint that asks for a token (the API, /metrics,
// the dashboard's session), over a real server on 127.0.0.1; requests with a valid token are neither counted nor slowed.
public sealed partial class DashboardApiTests
{
    private static ApiOptions Failures(int perMinute) => WithTokens() with { FailedAuthenticationsPerMinute = perMinute, KnownJobTypes = ["echo"] };

    /// <summary>A 429 problem naming the failed authentications, with a Retry-After within the minute.</summary>
    private static async Task AssertTooManyAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{what}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("failed authentications", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } d && d > TimeSpan.Zero && d <= TimeSpan.FromMinutes(1), $"{what}: Retry-After {response.Headers.RetryAfter}");
    }

    private static HttpRequestMessage WithBearer(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    [Fact]
    public async Task WrongBearerTokens_OnAnyEndpoints_CountTogether_Then429WithRetryAfter_NothingChanged()
    {
        var root = await StartAsync(Failures(4));
        using var http = new HttpClient { BaseAddress = root };
        // Four guesses on four different endpoints (a read, a submit, the metrics, the health check that names the store).
        string[] guesses = ["api/v1/jobs", "metrics", "api/v1/queues", "health/ready"];
        foreach (var path in guesses)
        {
            using var guess = await http.SendAsync(WithBearer(HttpMethod.Get, path, "guess-" + path));
            Assert.True(guess.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.OK, $"{path}: {(int)guess.StatusCode}");
        }
        // The fifth, on any endpoint and whatever the body: 429, and the job is not submitted.
        await AssertTooManyAsync(await http.SendAsync(WithBearer(HttpMethod.Post, "api/v1/jobs", "guess-5", Json("""{"type":"echo"}"""))), "POST api/v1/jobs");
        await AssertTooManyAsync(await http.SendAsync(WithBearer(HttpMethod.Get, "api/v1/workers", "guess-6")), "GET api/v1/workers");
        await AssertTooManyAsync(await http.SendAsync(WithBearer(HttpMethod.Get, "dashboard/session", "guess-7")), "GET dashboard/session");
        Assert.Empty(await _store.JobListAsync(new Gantry.Storage.JobListParams { Limit = 10 }, CancellationToken.None));
        // A request that presents no token guesses nothing: still 401.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task ValidTokens_NeverCounted_AndATokenInUseKeepsWorkingThroughItsAddressLockout()
    {
        var root = await StartAsync(Failures(3));
        using var http = new HttpClient { BaseAddress = root };
        // Many requests with a valid token spend nothing of the address's failures.
        for (var i = 0; i < 30; i++)
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(WithBearer(HttpMethod.Get, "api/v1/jobs", Admin))).StatusCode);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(WithBearer(HttpMethod.Get, "api/v1/jobs", "guess-" + i))).StatusCode);
        await AssertTooManyAsync(await http.SendAsync(WithBearer(HttpMethod.Get, "api/v1/jobs", "guess-3")), "a fourth guess");
        // The admin token, at work from this address before, goes on (a worker beside a misconfigured one on its machine);
        // the read token, never used from here, is refused like a guess, or 429 against 200 would tell a guesser which of
        // its guesses is right.
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(WithBearer(HttpMethod.Get, "api/v1/jobs", Admin))).StatusCode);
        await AssertTooManyAsync(await http.SendAsync(WithBearer(HttpMethod.Get, "api/v1/jobs", Read)), "a valid token new to the address");
    }

    [Fact]
    public async Task StaleSessionCookies_AreFailedAuthentications_AValidSessionGoesThroughTheLockout()
    {
        var root = await StartAsync(Failures(2));
        using var signedIn = Client(root, out _);
        Assert.Equal(HttpStatusCode.OK, (await signedIn.PostAsync("dashboard/session", Json($$"""{"token":"{{Admin}}"}"""))).StatusCode);
        using var http = new HttpClient { BaseAddress = root };
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/overview");
            request.Headers.Add("Cookie", "gantry_session=forged-" + i);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("session is not valid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var third = new HttpRequestMessage(HttpMethod.Get, "api/v1/overview");
        third.Headers.Add("Cookie", "gantry_session=forged-3");
        await AssertTooManyAsync(await http.SendAsync(third), "a third forged session");
        // A session cannot be guessed: a valid one works from the locked-out address.
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("api/v1/overview")).StatusCode);
    }

    [Fact]
    public void FailedAuthenticationsPerMinute_BelowOne_RefusedAtStart()
    {
        var ex = Assert.Throws<InvalidInputException>(() => new ServiceCollection()
            .AddGantryApi(new ApiOptions { FailedAuthenticationsPerMinute = 0 }));
        Assert.Equal("failed authentications per minute", ex.Field);
    }
}
