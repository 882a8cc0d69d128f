using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>/api/v1/jobs over real HTTP: answers, problem details, limits.</summary>
public sealed class JobsApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(string path, string body) => Http.PostJsonAsync(path, body);

    [Fact]
    public async Task Submit_OneDocument_CreatedThenIdempotentOk()
    {
        var first = await PostAsync("/api/v1/jobs", """{"type":"echo","payload":{"a":1},"idempotency_key":"k1"}""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var id = (await JsonAsync(first)).GetProperty("id").GetString();
        Assert.Equal($"/api/v1/jobs/{id}", first.Headers.Location?.OriginalString);

        var again = await PostAsync("/api/v1/jobs", """{"type":"echo","idempotency_key":"k1"}""");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var body = await JsonAsync(again);
        Assert.Equal(id, body.GetProperty("id").GetString());
        Assert.True(body.GetProperty("existing").GetBoolean());

        var job = await JsonAsync(await Http.GetAsync($"/api/v1/jobs/{id}"));
        Assert.Equal("queued", job.GetProperty("state").GetString());
        Assert.Equal(1, job.GetProperty("payload").GetProperty("a").GetInt32());
    }

    [Fact]
    public async Task Get_ShowsTheConcurrencyKeyAndTheUniquenessWindow()
    {
        var created = await PostAsync("/api/v1/jobs", """{"type":"echo","idempotency_key":"k2","unique_for":600,"unique_while":["queued","running"],"concurrency_key":"tenant-7"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await JsonAsync(created)).GetProperty("id").GetString();

        var job = await JsonAsync(await Http.GetAsync($"/api/v1/jobs/{id}"));
        Assert.Equal("tenant-7", job.GetProperty("concurrency_key").GetString());
        Assert.Equal(["queued", "running"], job.GetProperty("unique_while").EnumerateArray().Select(s => s.GetString()));
        var until = job.GetProperty("unique_until").GetDateTimeOffset();
        Assert.InRange(until - job.GetProperty("created_at").GetDateTimeOffset(), TimeSpan.FromSeconds(599), TimeSpan.FromSeconds(601));
    }

    [Fact]
    public async Task Submit_Array_AllOrNone()
    {
        var bad = await PostAsync("/api/v1/jobs", """[{"type":"echo"},{"type":"echo","max_attempts":0}]""");
        var problem = await ProblemAsync(bad, HttpStatusCode.BadRequest);
        Assert.Equal("body[1].max_attempts", problem.GetProperty("field").GetString());
        Assert.Empty(await _server.Store.QueueStatsAsync(CancellationToken.None));

        var ok = await PostAsync("/api/v1/jobs", """[{"type":"echo"},{"type":"sleep","payload":{"ms":1}}]""");
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(2, (await JsonAsync(ok)).GetArrayLength());
    }

    [Fact]
    public async Task Submit_MalformedJson_400WithPosition()
    {
        var problem = await ProblemAsync(await PostAsync("/api/v1/jobs", """{"type": "echo", """), HttpStatusCode.BadRequest);
        Assert.Contains("malformed JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_UnknownField_400NamingIt()
    {
        var problem = await ProblemAsync(await PostAsync("/api/v1/jobs", """{"type":"echo","priorty":3}"""), HttpStatusCode.BadRequest);
        Assert.Contains("unknown field 'priorty'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_UnknownType_400ListingKnown()
    {
        var problem = await ProblemAsync(await PostAsync("/api/v1/jobs", """{"type":"nope"}"""), HttpStatusCode.BadRequest);
        Assert.Equal("type", problem.GetProperty("field").GetString());
        Assert.Contains("known types: echo, sleep", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_OverRequestLimit_413()
    {
        var big = "{\"type\":\"echo\",\"payload\":{\"x\":\"" + new string('x', 100 * 1024) + "\"}}";
        await ProblemAsync(await PostAsync("/api/v1/jobs", big), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Get_UnknownOrMalformedId_404And400()
    {
        await ProblemAsync(await Http.GetAsync($"/api/v1/jobs/{Guid.CreateVersion7()}"), HttpStatusCode.NotFound);
        var problem = await ProblemAsync(await Http.GetAsync("/api/v1/jobs/not-an-id"), HttpStatusCode.BadRequest);
        Assert.Equal("id", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Cancel_QueuedThenAgain_OkThen409()
    {
        var id = (await JsonAsync(await PostAsync("/api/v1/jobs", """{"type":"echo"}"""))).GetProperty("id").GetString();
        var cancelled = await JsonAsync(await Http.PostAsync($"/api/v1/jobs/{id}/cancel", null));
        Assert.Equal("cancelled", cancelled.GetProperty("outcome").GetString());
        await ProblemAsync(await Http.PostAsync($"/api/v1/jobs/{id}/cancel", null), HttpStatusCode.Conflict);

        var retried = await JsonAsync(await Http.PostAsync($"/api/v1/jobs/{id}/retry", null));
        Assert.Equal("queued", retried.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Cancel_NowQuery_AcceptedAndChecked()
    {
        var id = (await JsonAsync(await PostAsync("/api/v1/jobs", """{"type":"echo"}"""))).GetProperty("id").GetString();
        var problem = await ProblemAsync(await Http.PostAsync($"/api/v1/jobs/{id}/cancel?now=soon", null), HttpStatusCode.BadRequest);
        Assert.Equal("now", problem.GetProperty("field").GetString());
        await ProblemAsync(await Http.PostAsync($"/api/v1/jobs/{id}/cancel?at_once=true", null), HttpStatusCode.BadRequest);

        var cancelled = await JsonAsync(await Http.PostAsync($"/api/v1/jobs/{id}/cancel?now=true", null));
        Assert.Equal("cancelled", cancelled.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task List_KeysetPagination_WalksEveryJobOnce()
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, 7).Select(i => "{\"type\":\"echo\",\"payload\":{\"n\":" + i + "}}")) + "]";
        Assert.Equal(HttpStatusCode.Created, (await PostAsync("/api/v1/jobs", body)).StatusCode);
        var seen = new List<int>();
        string? cursor = null;
        do
        {
            var page = await JsonAsync(await Http.GetAsync($"/api/v1/jobs?limit=3{(cursor is null ? "" : $"&cursor={cursor}")}"));
            seen.AddRange(page.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("payload").GetProperty("n").GetInt32()));
            cursor = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        } while (cursor is not null);
        Assert.Equal([6, 5, 4, 3, 2, 1, 0], seen);

        await ProblemAsync(await Http.GetAsync("/api/v1/jobs?state=sleeping"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Queues_PauseAndResume_ShownInCounts()
    {
        await PostAsync("/api/v1/jobs", """{"type":"echo","queue":"mail"}""");
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/api/v1/queues/mail/pause", null)).StatusCode);
        var queues = await JsonAsync(await Http.GetAsync("/api/v1/queues"));
        var mail = queues.EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "mail");
        Assert.True(mail.GetProperty("paused").GetBoolean());
        Assert.Equal(1, mail.GetProperty("queued").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/api/v1/queues/mail/resume", null)).StatusCode);
    }

    [Fact]
    public async Task Workers_DrainUnknown_404()
    {
        await ProblemAsync(await Http.PostAsync("/api/v1/workers/ghost/drain", null), HttpStatusCode.NotFound);
        Assert.Equal(0, (await JsonAsync(await Http.GetAsync("/api/v1/workers"))).GetArrayLength());
    }

    [Fact]
    public async Task Health_LiveAndReady_Ok()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health/live")).StatusCode);
        var ready = await Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("sqlite:", (await JsonAsync(ready)).GetProperty("store").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_PrometheusText_CountsByQueueAndState()
    {
        await PostAsync("/api/v1/jobs", """[{"type":"echo"},{"type":"echo","queue":"mail"}]""");
        var response = await Http.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE gantry_jobs gauge", text, StringComparison.Ordinal);
        Assert.Contains("gantry_jobs{queue=\"mail\",state=\"queued\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gantry_jobs{queue=\"default\",state=\"succeeded\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_RecordedInstruments_PrometheusCountersAndHistograms()
    {
        var queue = $"m{Guid.NewGuid():N}";
        await PostAsync("/api/v1/jobs", $$"""[{"type":"echo","queue":"{{queue}}"},{"type":"echo","queue":"{{queue}}"}]""");
        Gantry.Telemetry.GantryMetrics.QueueWait.Record(0.003, new KeyValuePair<string, object?>("queue", queue));
        Gantry.Telemetry.GantryMetrics.QueueWait.Record(42.0, new KeyValuePair<string, object?>("queue", queue));

        var text = await (await Http.GetAsync("/metrics")).Content.ReadAsStringAsync();

        Assert.Contains("# TYPE gantry_process_jobs_submitted_total counter", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_jobs_submitted_total{{queue=\"{queue}\"}} 2", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE gantry_process_job_queue_wait_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_bucket{{queue=\"{queue}\",le=\"0.001\"}} 0", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_bucket{{queue=\"{queue}\",le=\"0.005\"}} 1", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_bucket{{queue=\"{queue}\",le=\"30\"}} 1", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_bucket{{queue=\"{queue}\",le=\"60\"}} 2", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_bucket{{queue=\"{queue}\",le=\"+Inf\"}} 2", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_count{{queue=\"{queue}\"}} 2", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_process_job_queue_wait_seconds_sum{{queue=\"{queue}\"}} 42.003", text, StringComparison.Ordinal);
        Assert.Contains($"gantry_queue_oldest_queued_age_seconds{{queue=\"{queue}\"}}", text, StringComparison.Ordinal);
    }
}
