using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Gantry.Protocol;
using Gantry.Server.Api;

namespace Gantry.Server.Tests;

/// <summary>The worker protocol over real HTTP, as a worker in any language would speak it, and the API's input limits.</summary>
public sealed class WorkerProtocolApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new(ApiServer.Defaults with { Limits = JobLimits.Default with { MaxBatch = 3, MaxPayloadBytes = 1024, MaxDepth = 16 } });
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(string path, string body) => Http.PostJsonAsync(path, body);

    private static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status) =>
        (await ApiCalls.ProblemAsync(response, status)).GetProperty("detail").GetString()!;

    private const string Registration = """
        {"id":"py-1","host":"h","process_id":42,"version":"1","queues":{"default":2},"capacity":2,"job_types":["echo"],"capabilities":[],"tags":{}}
        """;

    [Fact]
    public async Task FetchReportHeartbeat_FencedByAttempt_StaleReportIs409()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/api/v1/worker/register", Registration)).StatusCode);
        var id = (await OkJsonAsync(await PostAsync("/api/v1/jobs", """{"type":"echo","payload":{"a":1}}"""))).GetProperty("id").GetString();

        var fetched = await OkJsonAsync(await PostAsync("/api/v1/worker/fetch", """{"worker_id":"py-1","queues":[{"queue":"default","limit":2}],"lease_seconds":30}"""));
        var job = Assert.Single(fetched.GetProperty("jobs").EnumerateArray().ToArray());
        Assert.Equal(id, job.GetProperty("id").GetString());
        Assert.Equal(1, job.GetProperty("attempt").GetInt32());
        Assert.Equal(1, job.GetProperty("payload").GetProperty("a").GetInt32());

        var beat = await OkJsonAsync(await PostAsync("/api/v1/worker/heartbeat", $$"""{"worker_id":"py-1","lease_seconds":30,"jobs":[{"job_id":"{{id}}","attempt":1}]}"""));
        Assert.Empty(beat.GetProperty("lost_jobs").EnumerateArray());

        var success = $$$"""{"reports":[{"kind":"succeeded","job_id":"{{{id}}}","attempt":1,"worker_id":"py-1","result":{"ok":true}}]}""";
        var applied = await OkJsonAsync(await PostAsync("/api/v1/worker/report", success));
        Assert.True(applied.GetProperty("applied")[0].GetBoolean());
        var stale = await ProblemAsync(await PostAsync("/api/v1/worker/report", success), HttpStatusCode.Conflict);
        Assert.Contains("no longer attempt 1", stale, StringComparison.Ordinal);
        var flagged = await OkJsonAsync(await PostAsync("/api/v1/worker/report", success.Replace("]}", "],\"flag_stale\":true}", StringComparison.Ordinal)));
        Assert.False(flagged.GetProperty("applied")[0].GetBoolean());

        var read = await OkJsonAsync(await Http.GetAsync($"/api/v1/jobs/{id}"));
        Assert.Equal("succeeded", read.GetProperty("state").GetString());
        Assert.True(read.GetProperty("result").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Fetch_LimitedQueueCutShort_AnswerNamesItHeldBack_PlainAnswerHasNoHeldBack()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/api/v1/worker/register", Registration)).StatusCode);
        for (var i = 0; i < 3; i++) await OkJsonAsync(await PostAsync("/api/v1/jobs", """{"type":"echo","payload":{}}"""));
        await OkJsonAsync(await PostAsync("/api/v1/jobs", """{"type":"echo","queue":"plain","payload":{}}"""));
        var limited = await Http.PutAsync("/api/v1/queues/default/limits", new StringContent("""{"concurrency":1}""", Encoding.UTF8, "application/json"));
        Assert.True(limited.IsSuccessStatusCode, $"{(int)limited.StatusCode}");

        const string Fetch = """{"worker_id":"py-1","queues":[{"queue":"QUEUE","limit":2}],"lease_seconds":30}""";
        var cut = await OkJsonAsync(await PostAsync("/api/v1/worker/fetch", Fetch.Replace("QUEUE", "default", StringComparison.Ordinal)));
        Assert.Single(cut.GetProperty("jobs").EnumerateArray());
        Assert.Equal(["default"], cut.GetProperty("held_back").EnumerateArray().Select(q => q.GetString()));
        var full = await OkJsonAsync(await PostAsync("/api/v1/worker/fetch", Fetch.Replace("QUEUE", "default", StringComparison.Ordinal)));
        Assert.Empty(full.GetProperty("jobs").EnumerateArray());
        Assert.Equal(["default"], full.GetProperty("held_back").EnumerateArray().Select(q => q.GetString()));
        var plain = await OkJsonAsync(await PostAsync("/api/v1/worker/fetch", Fetch.Replace("QUEUE", "plain", StringComparison.Ordinal)));
        Assert.Single(plain.GetProperty("jobs").EnumerateArray());
        Assert.False(plain.TryGetProperty("held_back", out _));
    }

    [Fact]
    public async Task Register_WithName_ListedBesideTheId()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/api/v1/worker/register", Registration.Replace("\"id\":\"py-1\",", "\"id\":\"py-1\",\"name\":\"render box\",", StringComparison.Ordinal))).StatusCode);

        var listed = await OkJsonAsync(await Http.GetAsync("/api/v1/workers"));
        var worker = listed.EnumerateArray().Single();
        Assert.Equal(("py-1", "render box"), (worker.GetProperty("id").GetString(), worker.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Heartbeat_AsANodeWritesIt_ManagedWorkersWithoutPidOrErrorAccepted()
    {
        // The node's own serializer leaves nulls out: a worker that never failed has no last_error, one waiting to
        // restart no pid. The server must read what the client writes, or a node over --server never renews a lease.
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync("/api/v1/worker/register", Registration)).StatusCode);
        var beat = new Gantry.Protocol.Wire.WireHeartbeatRequest("py-1", 30, [], [
            new Gantry.Storage.ManagedWorkerInfo(1, 4242, "running", 0, null, DateTimeOffset.UtcNow, 0, 0, 0, 4),
            new Gantry.Storage.ManagedWorkerInfo(2, null, "restarting", 1, "exited with code 1", null, 0, 0, 0, 4)]);
        var body = JsonSerializer.Serialize(beat, Gantry.Protocol.Wire.WireJson.Default.WireHeartbeatRequest);
        await OkJsonAsync(await PostAsync("/api/v1/worker/heartbeat", body));
        var listed = await OkJsonAsync(await Http.GetAsync("/api/v1/workers"));
        Assert.Contains("restarting", listed.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_LongPoll_ReturnsAsSoonAsAJobIsSubmitted()
    {
        await PostAsync("/api/v1/worker/register", Registration);
        var clock = Stopwatch.StartNew();
        var fetch = PostAsync("/api/v1/worker/fetch", """{"worker_id":"py-1","queues":[{"queue":"default","limit":1}],"lease_seconds":30,"wait_seconds":20}""");
        await Task.Delay(300);
        Assert.False(fetch.IsCompleted); // waiting for work
        await PostAsync("/api/v1/jobs", """{"type":"echo"}""");
        var fetched = await OkJsonAsync(await fetch);
        Assert.Single(fetched.GetProperty("jobs").EnumerateArray().ToArray());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Report_UnknownKind_400NamingTheField()
    {
        var detail = await ProblemAsync(await PostAsync("/api/v1/worker/report",
            $$"""{"reports":[{"kind":"exploded","job_id":"{{Guid.NewGuid()}}","attempt":1,"worker_id":"w"}]}"""), HttpStatusCode.BadRequest);
        Assert.Contains("reports[0].kind", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_OverBatchLimit_400SayingSo()
    {
        var detail = await ProblemAsync(await PostAsync("/api/v1/jobs", """[{"type":"echo"},{"type":"echo"},{"type":"echo"},{"type":"echo"}]"""), HttpStatusCode.BadRequest);
        Assert.Contains("over the batch limit of 3", detail, StringComparison.Ordinal);
        Assert.Equal(0, (await OkJsonAsync(await Http.GetAsync("/api/v1/jobs"))).GetProperty("jobs").GetArrayLength()); // none of the batch stored
    }

    [Fact]
    public async Task Submit_PayloadOverPerJobLimit_400NamingThePayload()
    {
        var detail = await ProblemAsync(await PostAsync("/api/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"x\":\"" + new string('x', 2000) + "\"}}"), HttpStatusCode.BadRequest);
        Assert.Contains("payload", detail, StringComparison.Ordinal);
        Assert.Contains("over the limit of 1,024 bytes", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_TooDeep_400SayingSo()
    {
        var deep = "{\"type\":\"echo\",\"payload\":" + string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 40) + "}";
        var detail = await ProblemAsync(await PostAsync("/api/v1/jobs", deep), HttpStatusCode.BadRequest);
        Assert.Contains("depth", detail, StringComparison.OrdinalIgnoreCase);
    }
}
