using System.Net;

namespace Gantry.Server.Tests;

/// <summary>A server that declares workers dead after 10 s refuses a worker that heartbeats less often than that allows.</summary>
public sealed class WorkerHeartbeatRuleApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new(ApiServer.Defaults with { DeadWorkerTimeout = TimeSpan.FromSeconds(10) });

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private Task<HttpResponseMessage> RegisterAsync(string heartbeat) => _server.Http.PostJsonAsync("/api/v1/worker/register",
        $$$"""{"id":"w-1","host":"h","process_id":42,"version":"1","queues":{"default":2},"capacity":2,{{{heartbeat}}}"job_types":["echo"],"capabilities":[],"tags":{}}""");

    [Theory]
    [InlineData("20", "too seldom")] // the case: 20 s heartbeats, 10 s timeout
    [InlineData("3.5", "at most 3.333s")]
    [InlineData("0", "positive")]
    [InlineData("-1", "positive")]
    [InlineData("1e300", "positive")]
    public async Task Register_HeartbeatTooSeldomForTheDeadWorkerTimeout_400NamingTheField(string seconds, string why)
    {
        var problem = await ApiCalls.ProblemAsync(await RegisterAsync($"\"heartbeat_interval_seconds\":{seconds},"), HttpStatusCode.BadRequest);
        Assert.Contains("heartbeat_interval_seconds", problem.ToString(), StringComparison.Ordinal);
        Assert.Contains(why, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _server.Store.WorkerListAsync(CancellationToken.None)); // nothing registered
    }

    [Theory]
    [InlineData("\"heartbeat_interval_seconds\":3.3,")]
    [InlineData("")] // a worker that does not say (older, or another language's) is taken as before
    public async Task Register_HeartbeatWithinTheTimeout_Registered(string heartbeat)
    {
        Assert.Equal(HttpStatusCode.NoContent, (await RegisterAsync(heartbeat)).StatusCode);
        Assert.Single(await _server.Store.WorkerListAsync(CancellationToken.None));
    }
}
