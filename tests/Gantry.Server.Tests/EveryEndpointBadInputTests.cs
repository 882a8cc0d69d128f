using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests;

/// <summary>
/// Walks every endpoint the app maps (read from its EndpointDataSource, so a new one is covered
/// without being listed here) with bad input of every kind: each answer is a 4xx problem, never a
/// 5xx or an empty body.
/// </summary>
public sealed class EveryEndpointBadInputTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private sealed record Call(string Method, string Path, bool ReadsBody, IReadOnlyList<string> Query);

    /// <summary>Every (method, path) the app answers, with its route values filled in (an unknown id, the default queue).</summary>
    private IReadOnlyList<Call> Calls()
    {
        var calls = new List<Call>();
        foreach (var endpoint in _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
            var path = "/" + string.Join("/", endpoint.RoutePattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart l => l.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "name" } => "default",
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart => Guid.CreateVersion7().ToString(),
                _ => "",
            }))));
            var readsBody = endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not null || path is "/api/v1/jobs" or "/api/v1/workflows";
            var query = endpoint.Metadata.GetMetadata<Gantry.Server.Api.AcceptsQuery>()?.Names ?? [];
            calls.AddRange(methods.Select(m => new Call(m, path, readsBody && m == "POST", query)));
        }
        Assert.True(calls.Count >= 25, $"only {calls.Count} endpoints found");
        return calls;
    }

    private async Task<(HttpStatusCode Status, string Body, string? Type)> SendAsync(string method, string path, string? body = null, string mediaType = "application/json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, mediaType);
        using var response = await _server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    private static void AssertProblem((HttpStatusCode Status, string Body, string? Type) answer, string what, HttpStatusCode? expected = null, string? field = null)
    {
        var (status, body, type) = answer;
        Assert.True((int)status is >= 400 and < 500, $"{what}: {(int)status} {body}");
        if (expected is { } e) Assert.True(e == status, $"{what}: expected {(int)e}, got {(int)status} {body}");
        Assert.True(type == "application/problem+json", $"{what}: {(int)status} answered {type ?? "no body"}: {body}");
        var problem = System.Text.Json.JsonDocument.Parse(body).RootElement;
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), $"{what}: no detail in {body}");
        if (field is not null) Assert.True(problem.TryGetProperty("field", out var f) && f.GetString() == field, $"{what}: field is not {field}: {body}");
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\b(System|Gantry)\.[A-Z]\w*\.", problem.GetProperty("detail").GetString()!);
    }

    public static readonly string[] MalformedBodies =
    [
        "{", "", "null", "[]", "\"text\"", "42", "{}", "[null]",
        """{"a":1,"a":2}""", """{"worker_id":null}""", """{"worker_id":"w","worker_id":"x"}""", "{\"worker_id\":\"w\\u0000\"}",
        "{\"\\udc00\":1}", "{\"worker_id\":\"\\ud800\"}", "{\"worker_id\":5}", "{\"worker_id\":\"w\",\"bogus\":1}",
    ];

    [Fact]
    public async Task EveryBodyEndpoint_MalformedBodies_400Problem()
    {
        foreach (var call in Calls().Where(c => c.ReadsBody))
            foreach (var body in MalformedBodies)
                AssertProblem(await SendAsync(call.Method, call.Path, body), $"{call.Method} {call.Path} with {body}", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task EveryBodyEndpoint_BytesThatAreNotUtf8_400NothingStored()
    {
        foreach (var call in Calls().Where(c => c.ReadsBody))
        {
            // Valid but for the bytes: a job's key, a workflow's name, a worker id.
            byte[] head = call.Path switch
            {
                "/api/v1/jobs" => [.. "{\"type\":\"echo\",\"idempotency_key\":\"k"u8],
                "/api/v1/workflows" => [.. "{\"steps\":{\"a\":{\"type\":\"echo\"}},\"name\":\"n"u8],
                _ => [.. "{\"worker_id\":\"w"u8],
            };
            using var content = new ByteArrayContent([.. head, 0xFF, 0xFE, .. "\"}"u8]);
            content.Headers.ContentType = new("application/json");
            using var response = await _server.Http.PostAsync(call.Path, content);
            AssertProblem((response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType),
                $"{call.Method} {call.Path} with bytes that are not UTF-8", HttpStatusCode.BadRequest);
        }
        Assert.Empty(await _server.Store.QueueStatsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EveryEndpoint_NonJsonBody_415NamingContentType()
    {
        foreach (var call in Calls())
            foreach (var (body, type) in new[] { ("a=b", "application/x-www-form-urlencoded"), ("{\"type\":\"echo\"}", "text/plain") })
                AssertProblem(await SendAsync(call.Method, call.Path, body, type), $"{call.Method} {call.Path} as {type}", HttpStatusCode.UnsupportedMediaType, "Content-Type");
    }

    [Fact]
    public async Task EveryEndpoint_UnknownOrRepeatedQueryParameter_400NamingIt()
    {
        foreach (var call in Calls())
        {
            AssertProblem(await SendAsync(call.Method, call.Path + "?tag=x"), $"{call.Method} {call.Path}?tag=x", HttpStatusCode.BadRequest, "tag");
            foreach (var name in call.Query)
                AssertProblem(await SendAsync(call.Method, $"{call.Path}?{name}=1&{name}=2"), $"{call.Method} {call.Path} {name} twice", HttpStatusCode.BadRequest, name);
        }
    }

    [Fact]
    public async Task EveryQueryParameter_BadValue_400NamingIt()
    {
        var bad = new Dictionary<string, string> { ["limit"] = "abc", ["allow_unknown_type"] = "maybe", ["state"] = "sleeping", ["cursor"] = "not-an-id", ["queue"] = "a%00b", ["type"] = "no spaces" };
        foreach (var call in Calls())
            foreach (var name in call.Query.Where(bad.ContainsKey))
                AssertProblem(await SendAsync(call.Method, $"{call.Path}?{name}={bad[name]}", call.ReadsBody ? "{\"type\":\"echo\"}" : null),
                    $"{call.Method} {call.Path}?{name}={bad[name]}", HttpStatusCode.BadRequest, name);
        foreach (var call in Calls())
            foreach (var name in call.Query)
                AssertProblem(await SendAsync(call.Method, $"{call.Path}?{name}=a%00b", call.ReadsBody ? "{\"type\":\"echo\"}" : null),
                    $"{call.Method} {call.Path}?{name} with a NUL", HttpStatusCode.BadRequest, name);
        AssertProblem(await SendAsync("GET", "/api/v1/jobs?limit=0"), "limit=0", HttpStatusCode.BadRequest, "limit");
        AssertProblem(await SendAsync("GET", "/api/v1/jobs?limit=99999999999"), "limit too big", HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task EveryPath_WrongMethod_405Problem()
    {
        foreach (var path in Calls().GroupBy(c => c.Path))
        {
            var method = !path.Any(c => c.Method == "GET") ? "GET" : path.Any(c => c.Method == "DELETE") ? "PATCH" : "DELETE";
            AssertProblem(await SendAsync(method, path.Key), $"{method} {path.Key}", HttpStatusCode.MethodNotAllowed);
        }
    }

    [Fact]
    public async Task UnknownRoutes_404Problem()
    {
        foreach (var path in new[] { "/nope", "/api/v1/nope", "/api/v2/jobs", "/api/v1/jobs/x/y/z" })
            AssertProblem(await SendAsync("GET", path), path, HttpStatusCode.NotFound);
        AssertProblem(await SendAsync("POST", "/api/v1/nope", "{}"), "POST /api/v1/nope", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EveryIdRoute_MalformedOrUnknownId_4xxProblem()
    {
        foreach (var call in Calls().Where(c => c.Path.Contains("-7", StringComparison.Ordinal) && !c.ReadsBody))
        {
            AssertProblem(await SendAsync(call.Method, call.Path), $"{call.Method} {call.Path}");
            var id = call.Path.Split('/').First(s => Guid.TryParse(s, out _));
            var malformed = call.Path.Replace(id, "not-an-id", StringComparison.Ordinal);
            AssertProblem(await SendAsync(call.Method, malformed), $"{call.Method} {malformed}");
        }
    }
}
