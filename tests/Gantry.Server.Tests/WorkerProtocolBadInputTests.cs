using System.Net;
using System.Text.Json;
using Gantry.Jobs;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>The worker protocol refuses what would break the store or the rules, as a 400 naming the field; the coordinator decides retries.</summary>
public sealed class WorkerProtocolBadInputTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private const string Registration = """
        {"id":"w1","host":"h","process_id":42,"version":"1","queues":{"default":2},"capacity":2,"job_types":["echo"],"capabilities":[],"tags":{}}
        """;

    private async Task<(string Id, int Attempt)> RunningAsync(string job = """{"type":"echo"}""")
    {
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostJsonAsync("/api/v1/worker/register", Registration)).StatusCode);
        var id = (await JsonAsync(await Http.PostJsonAsync("/api/v1/jobs", job))).GetProperty("id").GetString()!;
        var fetched = await JsonAsync(await Http.PostJsonAsync("/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1}],"lease_seconds":30}"""));
        var claimed = Assert.Single(fetched.GetProperty("jobs").EnumerateArray().ToArray());
        Assert.Equal(id, claimed.GetProperty("id").GetString());
        return (id, claimed.GetProperty("attempt").GetInt32());
    }

    private async Task<JobRecord> JobAsync(string id) => (await _server.Store.JobGetAsync(Guid.Parse(id), CancellationToken.None))!;

    [Theory]
    [InlineData("queued", null)]
    [InlineData("scheduled", "2020-01-01T00:00:00Z")]
    public async Task Report_FailedAskingARetry_OnTheLastAttempt_DeadNotFetchedAgain(string next, string? runAt)
    {
        var (id, attempt) = await RunningAsync("""{"type":"echo","max_attempts":1}""");
        var report = $$$"""{"reports":[{"kind":"failed","job_id":"{{{id}}}","attempt":{{{attempt}}},"worker_id":"w1","error":{"kind":"exception","message":"boom"},"next":"{{{next}}}"{{{(runAt is null ? "" : $",\"run_at\":\"{runAt}\"")}}}}]}""";

        var applied = await JsonAsync(await Http.PostJsonAsync("/api/v1/worker/report", report));

        Assert.True(applied.GetProperty("applied")[0].GetBoolean());
        Assert.Equal(JobState.Dead, (await JobAsync(id)).State);
        var again = await JsonAsync(await Http.PostJsonAsync("/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1}],"lease_seconds":30}"""));
        Assert.Empty(again.GetProperty("jobs").EnumerateArray());
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(0)]
    [InlineData(0.5)]
    [InlineData(1e20)]
    [InlineData(86401)]
    public async Task Heartbeat_LeaseOutOfRange_400NamingIt_LeaseKept(double lease)
    {
        var (id, attempt) = await RunningAsync();
        var before = (await JobAsync(id)).LeaseUntil;

        var problem = await ProblemAsync(await Http.PostJsonAsync("/api/v1/worker/heartbeat",
            $$"""{"worker_id":"w1","lease_seconds":{{lease.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"jobs":[{"job_id":"{{id}}","attempt":{{attempt}}}]}"""), HttpStatusCode.BadRequest);

        Assert.Equal("lease_seconds", problem.GetProperty("field").GetString());
        Assert.Contains("between 1 and 86400 seconds", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var job = await JobAsync(id);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal(before, job.LeaseUntil);
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(0)]
    [InlineData(1e20)]
    public async Task Fetch_LeaseOutOfRange_400NamingIt_NothingClaimed(double lease)
    {
        await Http.PostJsonAsync("/api/v1/worker/register", Registration);
        var id = (await JsonAsync(await Http.PostJsonAsync("/api/v1/jobs", """{"type":"echo"}"""))).GetProperty("id").GetString()!;

        var problem = await ProblemAsync(await Http.PostJsonAsync("/api/v1/worker/fetch",
            $$"""{"worker_id":"w1","queues":[{"queue":"default","limit":1}],"lease_seconds":{{lease.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}"""), HttpStatusCode.BadRequest);

        Assert.Equal("lease_seconds", problem.GetProperty("field").GetString());
        Assert.Equal(JobState.Queued, (await JobAsync(id)).State);
    }

    public static TheoryData<string, string, string> BadMessages => new()
    {
        // The inputs that answered 500 with an empty body, or were taken at face value.
        { "/api/v1/worker/report", """{"reports":[{"kind":"checkpoint","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","data":"%%%not base64"}]}""", "reports[0].data" },
        { "/api/v1/worker/report", """{"flag_stale":true}""", "reports" },
        { "/api/v1/worker/report", """{"reports":[null]}""", "reports[0]" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"failed","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","error":{"kind":"x","message":"y"},"next":"succeeded"}]}""", "reports[0].next" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"failed","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","error":{"kind":"x"},"next":"dead"}]}""", "reports[0].error.message" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"log","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","lines":[null]}]}""", "reports[0].lines[0]" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"progress","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","percent":5,"message":"a\u0000b"}]}""", "reports[0].message" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","lease_seconds":30}""", "queues" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[],"lease_seconds":30}""", "queues" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":-1}],"lease_seconds":30}""", "queues[0].limit" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"bad name!","limit":1}],"lease_seconds":30}""", "queues[0].queue" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1}],"lease_seconds":30,"wait_seconds":-1}""", "wait_seconds" },
        { "/api/v1/worker/fetch", """{"worker_id":"","queues":[{"queue":"default","limit":1}],"lease_seconds":30}""", "worker_id" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1}]}""", "lease_seconds" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1}],"lease_seconds":30,"lease_seconds":-1}""", "lease_seconds" },
        { "/api/v1/worker/heartbeat", """{"worker_id":"w1","lease_seconds":30}""", "jobs" },
        { "/api/v1/worker/heartbeat", """{"worker_id":"w1","lease_seconds":30,"jobs":[null]}""", "jobs[0]" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h","process_id":1,"queues":{"default":1},"capacity":1}""", "version" },
        { "/api/v1/worker/register", """{"id":"w\u0000","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""", "id" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h","process_id":1,"version":"1","queues":{"default":-1},"capacity":1}""", "queues.default" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1,"tags":{"a":"\u0000"}}""", "tags.a" },
        { "/api/v1/worker/deregister", "{}", "worker_id" },
        { "/api/v1/worker/deregister", """{"worker_id":""}""", "worker_id" },
        { "/api/v1/worker/commands", "{}", "worker_id" },
        { "/api/v1/worker/commands", """{"worker_id":null}""", "worker_id" },
        { "/api/v1/jobs", """{"type":"echo","idempotency_key":"k\u0000"}""", "body.idempotency_key" },
        { "/api/v1/jobs", """{"type":"echo","tags":{"t":"v\u0000"}}""", "body.tags.t" },
        { "/api/v1/jobs", """{"type":"echo","tags":{"t\u0000":"v"}}""", "body.tags" },
        { "/api/v1/jobs", """{"type":"echo","required_capabilities":["gpu\u0000"]}""", "body.required_capabilities[0]" },
        { "/api/v1/jobs", """{"type":"echo","type":"sleep"}""", "body" },
        { "/api/v1/workflows", """{"name":"n\u0000","steps":{"a":{"type":"echo"}}}""", "name" },
        // A lone UTF-16 surrogate escape is JSON but not text: taken, it failed every later read of the job (500).
        { "/api/v1/jobs", """{"type":"echo","queue":"\ud800"}""", "body.queue" },
        { "/api/v1/jobs", """{"type":"echo","payload":{"a":["ok","\udc00"]}}""", "body.payload.a[1]" },
        { "/api/v1/jobs", """{"type":"echo","tags":{"\ud800":"v"}}""", "body" },
        { "/api/v1/jobs", """[{"type":"echo"},{"type":"echo","idempotency_key":"k\ud800"}]""", "body[1].idempotency_key" },
        { "/api/v1/workflows", """{"name":"\ud800","steps":{"a":{"type":"echo"}}}""", "name" },
        { "/api/v1/workflows", """{"steps":{"a":{"type":"echo","payload":"\udfff"}}}""", "steps.a.payload" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"succeeded","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","result":{"a":"\ud800"}}]}""", "reports[0].result" },
        { "/api/v1/worker/register", """{"id":"w2","host":"\ud800","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""", "host" },
        // An unknown field is named itself, at the top of a workflow too (where the answer named no field).
        { "/api/v1/workflows", """{"name":"n","steps":{"a":{"type":"echo"}},"extra":1}""", "extra" },
        { "/api/v1/workflows", """{"name":"n","steps":{"a":{"type":"echo","colour":"red"}}}""", "steps.a.colour" },
        { "/api/v1/jobs", """{"type":"echo","priorty":1}""", "body.priorty" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1,"capacty":2}""", "capacty" },
        { "/api/v1/worker/deregister", """{"worker_id":"w1","reason":"bye"}""", "reason" },
        { "/api/v1/worker/fetch", """{"worker_id":"w1","queues":[{"queue":"default","limit":1,"lmit":2}],"lease_seconds":30}""", "queues[0].lmit" },
        // What the registry shows and gantry workers prints: no control character, no megabyte names.
        { "/api/v1/worker/register", """{"id":"w\n\u001b[31m","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""", "id" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h\r\nforged","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""", "host" },
        { "/api/v1/worker/register", """{"id":"w2","name":"gpu\n1","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""", "name" },
        { "/api/v1/worker/register", $$"""{"id":"w2","host":"h","process_id":1,"version":"{{new string('v', 201)}}","queues":{"default":1},"capacity":1}""", "version" },
        { "/api/v1/worker/register", $$"""{"id":"w2","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1,"capabilities":["{{new string('c', 201)}}"]}""", "capabilities[0]" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1,"job_types":["no spaces"]}""", "job_types[0]" },
        { "/api/v1/worker/register", """{"id":"w2","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1,"tags":{"zone":"a\u001b"}}""", "tags.zone" },
        { "/api/v1/worker/fetch", """{"worker_id":"w\t1","queues":[{"queue":"default","limit":1}],"lease_seconds":30}""", "worker_id" },
        // A log line's number identifies it: twice in one report, PostgreSQL refused the batch (503).
        { "/api/v1/worker/report", """{"reports":[{"kind":"log","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","lines":[{"n":1,"at":"2026-01-01T00:00:00Z","level":"info","message":"a"},{"n":1,"at":"2026-01-01T00:00:00Z","level":"info","message":"b"}]}]}""", "reports[0].lines[1].n" },
        // worker_id and attempt fence a report: an empty id or an attempt below 1 is bad input, not a stale report (409).
        { "/api/v1/worker/report", """{"reports":[{"kind":"cancelled","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":""}]}""", "reports[0].worker_id" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"cancelled","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":0,"worker_id":"w1"}]}""", "reports[0].attempt" },
        // A process handler's usage: one of the outcomes and limits, a limit named when one was hit, no negative figure.
        { "/api/v1/worker/report", """{"reports":[{"kind":"usage","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1"}]}""", "reports[0].usage" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"usage","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","usage":{"outcome":"exploded"}}]}""", "reports[0].usage.outcome" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"usage","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","usage":{"outcome":"limit_hit"}}]}""", "reports[0].usage.limit" },
        { "/api/v1/worker/report", """{"reports":[{"kind":"usage","job_id":"0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f","attempt":1,"worker_id":"w1","usage":{"outcome":"exited","cpu_seconds":-1}}]}""", "reports[0].usage.cpu_seconds" },
        // A job's own limits: positive, known fields only.
        { "/api/v1/jobs", """{"type":"echo","limits":{"memory_mb":0}}""", "body.limits.memory_mb" },
        { "/api/v1/jobs", """{"type":"echo","limits":{"mem":64}}""", "body.limits.mem" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task BadMessage_400NamingTheField_NothingChanged(string path, string body, string field)
    {
        var problem = await ProblemAsync(await Http.PostJsonAsync(path, body), HttpStatusCode.BadRequest);

        Assert.True(field == problem.GetProperty("field").GetString(), problem.ToString());
        Assert.Empty(await _server.Store.QueueStatsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Ready_WithTokens_NamesTheStoreOnlyToAReader()
    {
        var server = new ApiServer(ApiServer.Defaults with { Tokens = Gantry.Server.Api.ApiToken.ParseList("read:reader-token") });
        await server.InitializeAsync();
        try
        {

        var open = await server.Http.GetStringAsync("/health/ready");
        Assert.DoesNotContain("sqlite", open, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("gantry.db", open, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/ready");
        request.Headers.Authorization = new("Bearer", "reader-token");
        Assert.Contains("sqlite:", await (await server.Http.SendAsync(request)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
