using System.Net;
using System.Text;
using Gantry.Server.Api;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>
/// The token-less loopback API cannot be driven by a web page: no DNS rebinding (Host), no simple
/// cross-site posts (media type), no state change from another origin unless CORS allows it. Behind
/// tokens any Host is answered (workers reach a server by its DNS name) unless allowed hosts are given.
/// </summary>
public sealed class CrossSiteApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    /// <summary>One state-changing call of every class: submit, job control, workflows, queues, workers, the worker protocol.</summary>
    public static TheoryData<string, string?> StateChanging => new()
    {
        { "/api/v1/jobs", """{"type":"echo"}""" },
        { $"/api/v1/jobs/{Guid.CreateVersion7()}/cancel", null },
        { $"/api/v1/jobs/{Guid.CreateVersion7()}/retry", null },
        { "/api/v1/workflows", """{"name":"w","steps":{"a":{"type":"echo"}}}""" },
        { $"/api/v1/workflows/{Guid.CreateVersion7()}/cancel", null },
        { "/api/v1/queues/default/pause", null },
        { "/api/v1/queues/default/resume", null },
        { "/api/v1/workers/w1/drain", null },
        { "/api/v1/worker/register", """{"id":"w1","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""" },
        { "/api/v1/worker/deregister", """{"worker_id":"w1"}""" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1}],"lease_seconds":30}""" },
        { "/api/v1/worker/report", """{"reports":[]}""" },
        { "/api/v1/worker/heartbeat", """{"worker_id":"w1","lease_seconds":30,"jobs":[]}""" },
        { "/api/v1/worker/commands", """{"worker_id":"w1"}""" },
    };

    private static HttpRequestMessage Post(string path, string? body, string mediaType = "application/json", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, mediaType);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private async Task AssertNothingChangedAsync()
    {
        Assert.Empty(await _server.Store.QueueStatsAsync(CancellationToken.None));
        Assert.Empty(await _server.Store.WorkerListAsync(CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(StateChanging))]
    public async Task ForeignOrigin_403NamingOrigin_NothingChanged(string path, string? body)
    {
        var problem = await ProblemAsync(await Http.SendAsync(Post(path, body, headers: [("Origin", "https://attacker.example")])), HttpStatusCode.Forbidden);
        Assert.Equal("Origin", problem.GetProperty("field").GetString());
        await AssertNothingChangedAsync();
    }

    [Theory]
    [MemberData(nameof(StateChanging))]
    public async Task SecFetchSiteCrossSite_403_NothingChanged(string path, string? body)
    {
        var problem = await ProblemAsync(await Http.SendAsync(Post(path, body, headers: [("Sec-Fetch-Site", "cross-site")])), HttpStatusCode.Forbidden);
        Assert.Equal("Sec-Fetch-Site", problem.GetProperty("field").GetString());
        await AssertNothingChangedAsync();
    }

    [Theory]
    [MemberData(nameof(StateChanging))]
    public async Task TextPlainOrFormPost_415_NothingChanged(string path, string? body)
    {
        await ProblemAsync(await Http.SendAsync(Post(path, body ?? "", "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await ProblemAsync(await Http.SendAsync(Post(path, "a=b", "application/x-www-form-urlencoded")), HttpStatusCode.UnsupportedMediaType);
        await AssertNothingChangedAsync();
    }

    [Theory]
    [InlineData("GET", "/api/v1/jobs")]
    [InlineData("GET", "/health/ready")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/openapi.json")]
    [InlineData("POST", "/api/v1/jobs")]
    public async Task ForeignHost_400NamingHost(string method, string path)
    {
        foreach (var host in new[] { "attacker.example", "attacker.example:5080", "10.1.2.3" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Host = host;
            if (method == "POST") request.Content = new StringContent("""{"type":"echo"}""", Encoding.UTF8, "application/json");
            var problem = await ProblemAsync(await Http.SendAsync(request), HttpStatusCode.BadRequest);
            Assert.Equal("Host", problem.GetProperty("field").GetString());
        }
        await AssertNothingChangedAsync();
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("app.localhost:5080")]
    [InlineData("[::1]:5080")]
    [InlineData("127.0.0.2")]
    public async Task LoopbackHost_Answered(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs");
        request.Headers.Host = host;
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task SameOriginBrowserPost_Created()
    {
        var origin = Http.BaseAddress!.GetLeftPart(UriPartial.Authority);
        var response = await Http.SendAsync(Post("/api/v1/jobs", """{"type":"echo"}""", headers: [("Origin", origin), ("Sec-Fetch-Site", "same-origin")]));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task AllowedHostsAndCorsOrigins_Configured_Answered()
    {
        var server = new ApiServer(ApiServer.Defaults with { AllowedHosts = ["gantry.internal"], CorsOrigins = ["https://ui.example"] });
        await server.InitializeAsync();
        try
        {
            using var viaProxy = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs");
            viaProxy.Headers.Host = "gantry.internal:443";
            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(viaProxy)).StatusCode);

            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/jobs");
            preflight.Headers.TryAddWithoutValidation("Origin", "https://ui.example");
            preflight.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
            var answer = await server.Http.SendAsync(preflight);
            Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
            Assert.Equal("https://ui.example", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());

            var created = await server.Http.SendAsync(Post("/api/v1/jobs", """{"type":"echo"}""", headers: [("Origin", "https://ui.example"), ("Sec-Fetch-Site", "cross-site")]));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal("https://ui.example", created.Headers.GetValues("Access-Control-Allow-Origin").Single());

            await ProblemAsync(await server.Http.SendAsync(Post("/api/v1/jobs", """{"type":"echo"}""", headers: [("Origin", "https://other.example")])), HttpStatusCode.Forbidden);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static readonly IReadOnlyList<ApiToken> Tokens = ApiToken.ParseList("admin:admin-token,worker:worker-token");

    private static HttpRequestMessage Tokened(HttpMethod method, string path, string host, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Host = host;
        if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return request;
    }

    [Fact]
    public async Task TokenedApi_ForeignHostWithToken_Answered()
    {
        var server = new ApiServer(ApiServer.Defaults with { Tokens = Tokens });
        await server.InitializeAsync();
        try
        {
            foreach (var host in new[] { "gantry-server.internal:8080", "gantry-server.internal", "10.1.2.3:8080" })
            {
                Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Tokened(HttpMethod.Get, "/api/v1/jobs", host, "admin-token"))).StatusCode);
                Assert.Equal(HttpStatusCode.Created, (await server.Http.SendAsync(Tokened(HttpMethod.Post, "/api/v1/jobs", host, "admin-token", """{"type":"echo"}"""))).StatusCode);
                // Without a token the name is answered too, and the token is what refuses it.
                Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.SendAsync(Tokened(HttpMethod.Get, "/api/v1/jobs", host, null))).StatusCode);
            }
            var registered = await server.Http.SendAsync(Tokened(HttpMethod.Post, "/api/v1/worker/register", "gantry-server.internal:8080", "worker-token",
                """{"id":"w1","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1}"""));
            Assert.True(registered.IsSuccessStatusCode, $"register answered {registered.StatusCode}");

            // The cross-site and media-type rules hold behind tokens as well.
            var crossSite = Tokened(HttpMethod.Post, "/api/v1/jobs", "gantry-server.internal:8080", "admin-token", """{"type":"echo"}""");
            crossSite.Headers.TryAddWithoutValidation("Origin", "https://attacker.example");
            Assert.Equal("Origin", (await ProblemAsync(await server.Http.SendAsync(crossSite), HttpStatusCode.Forbidden)).GetProperty("field").GetString());
            var textPlain = Tokened(HttpMethod.Post, "/api/v1/jobs", "gantry-server.internal:8080", "admin-token");
            textPlain.Content = new StringContent("""{"type":"echo"}""", Encoding.UTF8, "text/plain");
            await ProblemAsync(await server.Http.SendAsync(textPlain), HttpStatusCode.UnsupportedMediaType);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task TokenedApi_AllowedHostsGiven_Enforced()
    {
        var server = new ApiServer(ApiServer.Defaults with { Tokens = Tokens, AllowedHosts = ["gantry.internal"] });
        await server.InitializeAsync();
        try
        {
            var refused = await ProblemAsync(await server.Http.SendAsync(Tokened(HttpMethod.Get, "/api/v1/jobs", "gantry-server.internal:8080", "admin-token")), HttpStatusCode.BadRequest);
            Assert.Equal("Host", refused.GetProperty("field").GetString());
            await ProblemAsync(await server.Http.SendAsync(Tokened(HttpMethod.Post, "/api/v1/jobs", "attacker.example", "admin-token", """{"type":"echo"}""")), HttpStatusCode.BadRequest);
            Assert.Empty(await server.Store.QueueStatsAsync(CancellationToken.None));

            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Tokened(HttpMethod.Get, "/api/v1/jobs", "gantry.internal:8080", "admin-token"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Tokened(HttpMethod.Get, "/api/v1/jobs", "localhost", "admin-token"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Tokened(HttpMethod.Get, "/api/v1/jobs", server.Http.BaseAddress!.Authority, "admin-token"))).StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
