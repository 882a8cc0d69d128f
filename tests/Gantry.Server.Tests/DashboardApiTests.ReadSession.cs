using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests;

// What a dashboard session with a read token can reach, walked over every endpoint the app maps (read from its
// EndpointDataSource, so a new one is covered without being listed): every call that changes something is refused and
// changes nothing, and with payloads hidden no answer (job, list, workflow, logs, both event streams) holds a payload or
// a result. And the sign-in's rate limit per client address.
public sealed partial class DashboardApiTests
{
    private const string Secret = "4111-1111-secret";

    /// <summary>The admin and read tokens, the job type <c>echo</c> known (workflows are submitted over the API).</summary>
    private static ApiOptions Tokens(bool hide = false, int signIns = 10) =>
        WithTokens(hide) with { SignInAttemptsPerMinute = signIns, KnownJobTypes = ["echo"] };

    /// <summary>A client signed in with the read token, and the session's anti-forgery token.</summary>
    private static async Task<(HttpClient Http, string Antiforgery)> SignInReadAsync(Uri root)
    {
        var http = Client(root, out _);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("dashboard/session", Json($$"""{"token":"{{Read}}"}"""))).StatusCode);
        var session = JsonDocument.Parse(await http.GetStringAsync("dashboard/session")).RootElement;
        Assert.Equal("read", session.GetProperty("scope").GetString());
        return (http, session.GetProperty("antiforgery").GetString()!);
    }

    /// <summary>Every (method, API path) the app maps, with route values from <paramref name="value"/> (by parameter name).</summary>
    private List<(string Method, string Path, bool TypedBody)> ApiCalls(Func<string, string> value)
    {
        var calls = new List<(string, string, bool)>();
        foreach (var endpoint in _apps[^1].Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var path = string.Join("/", endpoint.RoutePattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart l => l.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => value(parameter.Name),
                _ => "",
            }))));
            if (!path.StartsWith("api/v1/", StringComparison.Ordinal)) continue;
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                calls.Add((method, path, endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: not null }));
        }
        return calls;
    }

    /// <summary>Bodies a call that changes something may be sent with: each refused for its scope before it is read.</summary>
    private static readonly (string Body, string MediaType)[] AnyBodies =
    [
        ("{}", "application/json"),
        ("""{"no_such_field": [1, 2""", "application/json"),
        ("""{"type": 7, "payload": "x", "queue": null, "unknown": true}""", "application/json"),
        ("not json at all", "application/json"),
    ];

    [Fact]
    public async Task ReadSession_EveryCallThatChangesSomething_RefusedAndNothingChanged()
    {
        var root = await StartAsync(Tokens());
        await _store.EnqueueAsync(StoreTestExtensions.Job("echo", "mail"));
        var queued = await _store.EnqueueAsync(StoreTestExtensions.Job("echo", "mail"));
        var (http, antiforgery) = await SignInReadAsync(root);
        using var client = http;
        using var bearer = new HttpClient { BaseAddress = root };
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Read);
        var before = await _store.JobListAsync(new JobListParams { Limit = 100 }, CancellationToken.None);
        var calls = ApiCalls(name => name == "name" ? "mail" : queued.ToString()).Where(c => c.Method is not ("GET" or "HEAD")).ToList();
        Assert.True(calls.Count >= 20, $"only {calls.Count} calls that change something found");
        Assert.Contains(calls, c => c.TypedBody);
        // A read session and a read token, each with every kind of JSON body: the scope is asked first, so the answer is 403
        // whether the body is right, bound to a type that refuses it, or not JSON at all. (A body sent as another media type
        // is refused 415 before routing chooses an endpoint, and so before anything else.)
        foreach (var (method, path, _) in calls)
            foreach (var (body, mediaType) in AnyBodies)
                foreach (var (caller, viaSession) in new[] { (http, true), (bearer, false) })
                {
                    using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
                    if (viaSession) request.Headers.Add("RequestVerificationToken", antiforgery);
                    using var response = await caller.SendAsync(request);
                    var text = await response.Content.ReadAsStringAsync();
                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden,
                        $"{(viaSession ? "session" : "bearer")} {method} {path} with {mediaType} {body}: {(int)response.StatusCode} {text}");
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.Contains(viaSession ? "admin token" : "scope", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                }
        // Nothing changed: the same jobs in the same states, no queue paused, nothing in the audit log.
        var after = await _store.JobListAsync(new JobListParams { Limit = 100 }, CancellationToken.None);
        Assert.Equal(before.Select(j => (j.Id, j.State)), after.Select(j => (j.Id, j.State)));
        Assert.DoesNotContain((await _store.QueueStatsAsync(CancellationToken.None)), q => q.Paused);
        Assert.Empty(await _store.AuditListAsync(new AuditListParams { Limit = 10 }, CancellationToken.None));
    }

    [Fact]
    public async Task ReadSession_HiddenPayloads_NoAnswerHoldsOne()
    {
        var root = await StartAsync(Tokens(hide: true));
        using var admin = new HttpClient { BaseAddress = root };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        var workflow = await admin.PostAsync("api/v1/workflows", Json("""{"name":"w","steps":{"a":{"type":"echo","payload":{"card":"SECRET"}}}}""".Replace("SECRET", Secret, StringComparison.Ordinal)));
        Assert.True(workflow.StatusCode == HttpStatusCode.Created, await workflow.Content.ReadAsStringAsync());
        var workflowId = JsonDocument.Parse(await workflow.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        // A job that ran to its end with a secret result too.
        var done = await _store.EnqueueAsync(StoreTestExtensions.Job("echo") with { Payload = $$"""{"card":"{{Secret}}"}""" });
        await _store.WorkerRegisterAsync(StoreTestExtensions.Worker("w1"), CancellationToken.None);
        var claimed = await _store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand("default", 10)], TimeSpan.FromMinutes(1), []), CancellationToken.None);
        foreach (var job in claimed.Where(j => j.Id == done))
            await _store.JobReportManyAsync([new JobSucceededReport(job.Id, job.Attempt, "w1", $$"""{"card":"{{Secret}}"}""")], CancellationToken.None);
        Assert.Contains(Secret, await admin.GetStringAsync($"api/v1/jobs/{done}"), StringComparison.Ordinal);

        var (http, _) = await SignInReadAsync(root);
        using var client = http;
        var calls = ApiCalls(name => name switch { "name" => "default", _ => done.ToString() }).Where(c => c.Method == "GET").ToList();
        calls.Add(("GET", $"api/v1/workflows/{workflowId}", false));
        calls.Add(("GET", $"api/v1/jobs?search=echo", false));
        Assert.Contains(calls, c => c.Path == "api/v1/events");
        Assert.Contains(calls, c => c.Path == $"api/v1/jobs/{done}/events");
        foreach (var (_, path, _) in calls)
        {
            // Event streams go on: what arrives in a second is what a viewer sees first.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var text = new StringBuilder();
            try
            {
                using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
                var buffer = new char[4096];
                int n;
                while ((n = await reader.ReadAsync(buffer, cts.Token)) > 0) text.Append(buffer, 0, n);
            }
            catch (OperationCanceledException)
            {
                // The stream was still open: what it sent so far is checked.
            }
            Assert.DoesNotContain(Secret, text.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SignIn_TooManyAttemptsFromOneAddress_429ProblemWithRetryAfter_TheApiUntouched()
    {
        var root = await StartAsync(Tokens(signIns: 3));
        using var http = new HttpClient { BaseAddress = root };
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("dashboard/session", Json("""{"token":"a-guess"}"""))).StatusCode);
        // The right token too, once the address has used its attempts.
        var refused = await http.PostAsync("dashboard/session", Json($$"""{"token":"{{Admin}}"}"""));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("sign-in", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } d && d > TimeSpan.Zero && d <= TimeSpan.FromMinutes(1), $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.False(refused.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("gantry_session=", StringComparison.Ordinal)));
        // The rest of the API and the session read are not limited.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Read);
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("dashboard/session")).StatusCode);
    }
}
