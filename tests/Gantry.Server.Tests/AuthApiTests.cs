using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gantry.Server.Api;

namespace Gantry.Server.Tests;

/// <summary>Tokens and scopes, OpenAPI and server-sent events over real HTTP.</summary>
public sealed class AuthApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new(ApiServer.Defaults with
    {
        Tokens = ApiToken.ParseList("read:reader-token,submit:submitter-token,admin:admin-token,worker:worker-token"),
    });

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _server.Http.SendAsync(request);
    }

    [Fact]
    public async Task NoOrUnknownToken_401WithChallenge()
    {
        var none = await SendAsync(HttpMethod.Get, "/api/v1/jobs", null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/api/v1/jobs", "not-a-token")).StatusCode);
    }

    [Fact]
    public async Task Scopes_ReadSubmitAdminWorker_EachAllowedOnlyItsCalls()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/v1/jobs", "reader-token")).StatusCode);
        var forbidden = await SendAsync(HttpMethod.Post, "/api/v1/jobs", "reader-token", """{"type":"echo"}""");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("needs the submit scope", await forbidden.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "/api/v1/jobs", "submitter-token", """{"type":"echo"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/v1/queues", "submitter-token")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/api/v1/queues/default/pause", "submitter-token")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, "/api/v1/queues/default/pause", "admin-token")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, "/api/v1/jobs", "worker-token")).StatusCode);
    }

    [Fact]
    public async Task Health_NeedsNoToken()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/health/live", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/health/ready", null)).StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpoint()
    {
        var doc = JsonDocument.Parse(await (await SendAsync(HttpMethod.Get, "/openapi.json", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Gantry API", doc.GetProperty("info").GetProperty("title").GetString());
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToArray();
        foreach (var path in new[] { "/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/{id}/retry", "/api/v1/jobs/{id}/events",
                     "/api/v1/queues", "/api/v1/queues/{name}/pause", "/api/v1/workers", "/api/v1/workers/{id}/drain", "/health/ready" })
            Assert.Contains(path, paths);
    }

    [Fact]
    public async Task Events_FinishedJob_StreamsItsStateAndEnds()
    {
        var created = JsonDocument.Parse(await (await SendAsync(HttpMethod.Post, "/api/v1/jobs", "submitter-token", """{"type":"echo"}""")).Content.ReadAsStringAsync());
        var id = created.RootElement.GetProperty("id").GetString();
        await SendAsync(HttpMethod.Post, $"/api/v1/jobs/{id}/cancel", "submitter-token");

        var events = await SendAsync(HttpMethod.Get, $"/api/v1/jobs/{id}/events", "reader-token");
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        var text = await events.Content.ReadAsStringAsync();
        Assert.StartsWith("event: job\ndata: {", text, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"cancelled\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenList_Malformed_NamesTheEntry()
    {
        var ex = Assert.Throws<InvalidInputException>(() => ApiToken.ParseList("admin:longenough,root:longenough"));
        Assert.Equal("GANTRY_TOKENS[1]", ex.Where);
        Assert.Throws<InvalidInputException>(() => ApiToken.ParseList("read:short"));
    }
}
