using System.Net;
using System.Text;

namespace Gantry.Server.Tests;

/// <summary>Flow limits over the API: set, shown with the queue, bad input refused naming the field, cleared.</summary>
public sealed class QueueLimitsApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private Task<HttpResponseMessage> PutAsync(string queue, string body) =>
        Http.PutAsync($"/api/v1/queues/{queue}/limits", new StringContent(body, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Limits_SetShownAndCleared()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo","queue":"mail","concurrency_key":"acme"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PutAsync("mail", """{"concurrency": 5, "per_key": 2, "rate": "100/s", "rate_per_key": "10/m"}""")).StatusCode);

        var queue = (await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues"))).EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "mail");
        var limits = queue.GetProperty("limits");
        Assert.Equal(5, limits.GetProperty("concurrency").GetInt32());
        Assert.Equal(2, limits.GetProperty("per_key").GetInt32());
        Assert.Equal("100/s", limits.GetProperty("rate").GetString());
        Assert.Equal("10/m", limits.GetProperty("rate_per_key").GetString());
        var metrics = await Http.GetStringAsync("/metrics");
        Assert.Contains("gantry_queue_limit_rate_per_key{queue=\"mail\",window_seconds=\"60\"} 10", metrics, StringComparison.Ordinal);
        Assert.Contains("gantry_queue_keys_at_limit{queue=\"mail\"} 0", metrics, StringComparison.Ordinal);
        Assert.Equal(0, limits.GetProperty("running").GetInt64());
        Assert.Equal(0, limits.GetProperty("keys_at_limit").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/queues/mail/limits")).StatusCode);
        queue = (await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues"))).EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "mail");
        Assert.False(queue.TryGetProperty("limits", out var cleared) && cleared.ValueKind != System.Text.Json.JsonValueKind.Null);
    }

    [Theory]
    [InlineData("""{"concurrency": 0}""", "concurrency")]
    [InlineData("""{"per_key": -3}""", "per_key")]
    [InlineData("""{"rate": "100/d"}""", "rate")]
    [InlineData("""{"rate": 100}""", "rate")]
    [InlineData("""{"rate_per_key": "5/d"}""", "rate_per_key")]
    [InlineData("""{"rate_per_key": "0/s"}""", "rate_per_key")]
    [InlineData("""{"rate_per_key": 5}""", "rate_per_key")]
    [InlineData("""{"concurency": 4}""", "concurency")]
    [InlineData("""{}""", "limits")]
    [InlineData("""{"per_key": 2, "per_key": 3}""", "per_key")]
    [InlineData("""{"rate": "\ud800/s"}""", "rate")]
    [InlineData("""{"per_key": 2, "\udc00": 1}""", "body")]
    [InlineData("""{"rate": "5/s", "concurrency": 2, "rate": "9/s"}""", "rate")]
    public async Task Limits_BadInput_400NamingTheField_NothingChanged(string body, string field)
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo","queue":"mail"}""")).StatusCode);
        var problem = await ApiCalls.ProblemAsync(await PutAsync("mail", body), HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Empty(await _server.Store.QueueLimitsListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Limits_UnknownQueue_404NamingIt()
    {
        var problem = await ApiCalls.ProblemAsync(await PutAsync("nowhere", """{"concurrency": 1}"""), HttpStatusCode.NotFound);
        Assert.Contains("nowhere", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ApiCalls.ProblemAsync(await Http.DeleteAsync("/api/v1/queues/nowhere/limits"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Keys_ListedInKeyOrder_WithTheirCounts_PageByPage()
    {
        foreach (var key in new[] { "beta", "acme", "acme", null })
            Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs",
                key is null ? """{"type":"echo","queue":"mail"}""" : $$"""{"type":"echo","queue":"mail","concurrency_key":"{{key}}"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PutAsync("mail", """{"per_key": 2, "rate_per_key": "10/m"}""")).StatusCode);

        var page = await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues/mail/keys"));
        Assert.Equal("mail", page.GetProperty("queue").GetString());
        Assert.Equal(2, page.GetProperty("per_key").GetInt32());
        Assert.Equal("10/m", page.GetProperty("rate_per_key").GetString());
        Assert.False(page.TryGetProperty("next_after", out _));
        var keys = page.GetProperty("keys").EnumerateArray().ToArray();
        Assert.Equal([null, "acme", "beta"], keys.Select(k => k.TryGetProperty("key", out var v) ? v.GetString() : null));
        Assert.Equal([1L, 2, 1], keys.Select(k => k.GetProperty("queued").GetInt64()));
        Assert.All(keys, k => Assert.Equal(0, k.GetProperty("running").GetInt64()));
        Assert.All(keys, k => Assert.False(k.GetProperty("at_limit").GetBoolean()));
        Assert.All(keys, k => Assert.Equal(0, k.GetProperty("started_in_window").GetInt64()));

        // Page by page: the first page ends with the jobs without a key, so the next starts after "".
        page = await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues/mail/keys?limit=1"));
        Assert.Equal("", page.GetProperty("next_after").GetString());
        page = await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues/mail/keys?limit=1&after="));
        Assert.Equal("acme", Assert.Single(page.GetProperty("keys").EnumerateArray()).GetProperty("key").GetString());
        page = await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues/mail/keys?limit=1&after=acme"));
        Assert.Equal("beta", Assert.Single(page.GetProperty("keys").EnumerateArray()).GetProperty("key").GetString());
        Assert.Empty((await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues/mail/keys?at_limit=true"))).GetProperty("keys").EnumerateArray());
    }

    [Theory]
    [InlineData("mail/keys?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("mail/keys?limit=1001", HttpStatusCode.BadRequest, "limit")]
    [InlineData("mail/keys?limit=ten", HttpStatusCode.BadRequest, "limit")]
    [InlineData("mail/keys?at_limit=maybe", HttpStatusCode.BadRequest, "at_limit")]
    [InlineData("mail/keys?after=%00", HttpStatusCode.BadRequest, "after")]
    [InlineData("mail/keys?keys=acme", HttpStatusCode.BadRequest, "keys")]
    [InlineData("mail/keys?limit=1&limit=2", HttpStatusCode.BadRequest, "limit")]
    [InlineData("bad%20name/keys", HttpStatusCode.BadRequest, "name")]
    [InlineData("nowhere/keys", HttpStatusCode.NotFound, "name")]
    [InlineData("plain/keys", HttpStatusCode.Conflict, "name")]
    public async Task Keys_BadQuery_4xxNamingTheField(string path, HttpStatusCode status, string field)
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo","queue":"mail","concurrency_key":"acme"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo","queue":"plain","concurrency_key":"acme"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PutAsync("mail", """{"per_key": 2}""")).StatusCode);
        var problem = await ApiCalls.ProblemAsync(await Http.GetAsync($"/api/v1/queues/{path}"), status);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Keys_AfterLongerThanAnyKey_400()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo","queue":"mail","concurrency_key":"acme"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PutAsync("mail", """{"per_key": 2}""")).StatusCode);
        var problem = await ApiCalls.ProblemAsync(await Http.GetAsync($"/api/v1/queues/mail/keys?after={new string('k', 256)}"), HttpStatusCode.BadRequest);
        Assert.Equal("after", problem.GetProperty("field").GetString());
    }
}
