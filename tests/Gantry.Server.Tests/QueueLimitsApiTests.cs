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
}
