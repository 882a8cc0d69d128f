using System.Net;
using System.Text;
using Gantry.Storage;

namespace Gantry.Server.Tests;

/// <summary>Names with a slash in a request's path (a queue <c>a/b</c>, a worker id), written as clients
/// write them (<c>a%2Fb</c>): every endpoint that takes one acts on the name itself, and the audit log names it so.</summary>
public sealed class PathNamesApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Queue_WithASlash_PausedLimitedListedKeptAndResumed()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo","queue":"team/mail","concurrency_key":"acme"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/api/v1/queues/team%2Fmail/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PutAsync("/api/v1/queues/team%2fmail/limits", Json("""{"per_key": 2}"""))).StatusCode);
        var keys = await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues/team%2Fmail/keys"));
        Assert.Equal("team/mail", keys.GetProperty("queue").GetString());
        Assert.Equal("acme", Assert.Single(keys.GetProperty("keys").EnumerateArray()).GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsync("/api/v1/queues/team%2Fmail/retention", Json("""{"succeeded_seconds": 3600}"""))).StatusCode);

        var queue = (await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/queues"))).EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "team/mail");
        Assert.True(queue.GetProperty("paused").GetBoolean());
        Assert.Equal(2, queue.GetProperty("limits").GetProperty("per_key").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/queues/team%2Fmail/limits")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/api/v1/queues/team%2Fmail/resume", null)).StatusCode);
        Assert.Empty(await _server.Store.QueueLimitsListAsync(CancellationToken.None));

        var targets = (await ApiCalls.JsonAsync(await Http.GetAsync("/api/v1/audit"))).GetProperty("entries").EnumerateArray()
            .Select(e => e.GetProperty("target").GetString()).ToHashSet();
        Assert.Contains("queue team/mail", targets);
        Assert.DoesNotContain(targets, t => t!.Contains('%', StringComparison.Ordinal));
    }

    [Fact]
    public async Task Worker_WithASlashOrAPercentInItsId_TakesItsCommand()
    {
        foreach (var id in new[] { "host/1", "50%off", "odd%2Fid" })
        {
            await _server.Store.WorkerRegisterAsync(new WorkerRegistration
            {
                Id = id, Host = "host", ProcessId = 1, Queues = new Dictionary<string, int> { ["default"] = 1 }, Capacity = 1,
            }, CancellationToken.None);
            Assert.Equal(HttpStatusCode.Accepted, (await Http.PostAsync($"/api/v1/workers/{Uri.EscapeDataString(id)}/drain", null)).StatusCode);
            var command = Assert.Single(await _server.Store.WorkerCommandsTakeAsync(id, CancellationToken.None));
            Assert.Equal(WorkerCommandKind.Drain, command.Kind);
        }
    }
}
