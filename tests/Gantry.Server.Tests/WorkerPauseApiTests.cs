using System.Net;
using System.Text.Json;

namespace Gantry.Server.Tests;

/// <summary>Pausing a worker over the API: a fetch already parked on the server takes nothing after it, and the
/// registry shows it paused; the list shows live workers unless asked for all.</summary>
public sealed class WorkerPauseApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private static string Registration(string id) =>
        $$$"""{"id":"{{{id}}}","host":"h","process_id":42,"version":"1","queues":{"default":2},"capacity":2,"job_types":["echo"],"capabilities":[],"tags":{}}""";

    private static string Fetch(string id, int waitSeconds) =>
        $$"""{"worker_id":"{{id}}","queues":[{"queue":"default","limit":1}],"lease_seconds":30,"wait_seconds":{{waitSeconds}}}""";

    private async Task<JsonElement[]> WorkersAsync(string query = "")
    {
        var response = await Http.GetAsync($"/api/v1/workers{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToArray();
    }

    private static string StateOf(JsonElement[] workers, string id) => workers.Single(w => w.GetProperty("id").GetString() == id).GetProperty("state").GetString()!;

    [Fact]
    public async Task Pause_WhileAFetchIsParked_JobsSubmittedAfterAreNotHandedToIt()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostJsonAsync("/api/v1/worker/register", Registration("py-1"))).StatusCode);
        var parked = Http.PostJsonAsync("/api/v1/worker/fetch", Fetch("py-1", waitSeconds: 3));
        await Task.Delay(300);
        Assert.False(parked.IsCompleted);

        Assert.Equal(HttpStatusCode.Accepted, (await Http.PostAsync("/api/v1/workers/py-1/pause", null)).StatusCode);
        await Task.Delay(500);
        Assert.Equal(HttpStatusCode.Created, (await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo"}""")).StatusCode);

        var answer = await parked;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Empty(JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Equal("paused", StateOf(await WorkersAsync(), "py-1"));

        Assert.Equal(HttpStatusCode.Accepted, (await Http.PostAsync("/api/v1/workers/py-1/resume", null)).StatusCode);
        var resumed = JsonDocument.Parse(await (await Http.PostJsonAsync("/api/v1/worker/fetch", Fetch("py-1", waitSeconds: 3))).Content.ReadAsStringAsync());
        Assert.Single(resumed.RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Equal("running", StateOf(await WorkersAsync(), "py-1"));
    }

    [Fact]
    public async Task Drain_ListedDraining_StoppedOnesOnlyWithAll()
    {
        foreach (var id in new[] { "live", "draining", "gone" })
            Assert.Equal(HttpStatusCode.NoContent, (await Http.PostJsonAsync("/api/v1/worker/register", Registration(id))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Http.PostAsync("/api/v1/workers/draining/drain", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostJsonAsync("/api/v1/worker/deregister", """{"worker_id":"gone"}""")).StatusCode);

        var listed = await WorkersAsync();
        Assert.Equal(["draining", "live"], listed.Select(w => w.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal("draining", StateOf(listed, "draining"));
        Assert.Equal("stopped", StateOf(await WorkersAsync("?all=true"), "gone"));
    }
}
