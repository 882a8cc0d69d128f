using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gantry.Jobs;
using Gantry.Server.Api;
using Gantry.Storage;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>The job list's tag and search filters, bulk retry and cancel, and the audit log, over real HTTP.</summary>
public sealed class DashboardDataApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new(ApiServer.Defaults with
    {
        Tokens = ApiToken.ParseList("read:reader-token,admin:admin-token"),
    });

    private static readonly CancellationToken Ct = CancellationToken.None;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string token = "admin-token")
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _server.Http.SendAsync(request);
    }

    private async Task<Guid> DeadAsync(string type, string queue)
    {
        var job = new NewJob { Id = JobIds.New(), Type = type, Queue = queue, MaxAttempts = 1 };
        await _server.Store.JobEnqueueManyAsync(new JobEnqueueParams([job]), Ct);
        var claimed = Assert.Single(await _server.Store.JobClaimAsync(new JobClaimParams("w", [new QueueDemand(queue, 1)], TimeSpan.FromMinutes(1), []), Ct));
        await _server.Store.JobReportManyAsync([new JobFailedReport(claimed.Id, claimed.Attempt, "w", new JobError(JobErrorKinds.Exception, "no"), JobState.Dead, null)], Ct);
        return job.Id;
    }

    [Fact]
    public async Task ListJobs_TagsAndSearch_FilterAndBadTagNamesTheField()
    {
        var billing = new NewJob { Id = JobIds.New(), Type = "mail.send", Tags = new Dictionary<string, string> { ["team"] = "billing", ["env"] = "prod" } };
        var other = new NewJob { Id = JobIds.New(), Type = "mail.send", Tags = new Dictionary<string, string> { ["team"] = "billing", ["env"] = "dev" } };
        var plain = new NewJob { Id = JobIds.New(), Type = "report", IdempotencyKey = "order-42" };
        await _server.Store.JobEnqueueManyAsync(new JobEnqueueParams([billing, other, plain]), Ct);

        var tagged = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/jobs?tag=team%3Dbilling&tag=env%3Dprod", token: "reader-token"));
        Assert.Equal(billing.Id.ToString(), Assert.Single(tagged.GetProperty("jobs").EnumerateArray()).GetProperty("id").GetString());
        var byType = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/jobs?search=mail.", token: "reader-token"));
        Assert.Equal(2, byType.GetProperty("jobs").GetArrayLength());
        var byKey = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/jobs?search=order-42", token: "reader-token"));
        Assert.Equal(plain.Id.ToString(), Assert.Single(byKey.GetProperty("jobs").EnumerateArray()).GetProperty("id").GetString());

        var bad = await ProblemAsync(await SendAsync(HttpMethod.Get, "/api/v1/jobs?tag=team", token: "reader-token"), HttpStatusCode.BadRequest);
        Assert.Equal("tag", bad.GetProperty("field").GetString());
        var twice = await ProblemAsync(await SendAsync(HttpMethod.Get, "/api/v1/jobs?queue=a&queue=b", token: "reader-token"), HttpStatusCode.BadRequest);
        Assert.Equal("queue", twice.GetProperty("field").GetString());
    }

    [Fact]
    public async Task ListAndBulkCancel_ByConcurrencyKey_OnlyThatKeysJobs_AuditedWithIt()
    {
        var acme = new NewJob { Id = JobIds.New(), Type = "mail", Queue = "emails", ConcurrencyKey = "acme" };
        var beta = new NewJob { Id = JobIds.New(), Type = "mail", Queue = "emails", ConcurrencyKey = "beta" };
        await _server.Store.JobEnqueueManyAsync(new JobEnqueueParams([acme, beta]), Ct);

        var listed = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/jobs?concurrency_key=acme", token: "reader-token"));
        Assert.Equal(acme.Id.ToString(), Assert.Single(listed.GetProperty("jobs").EnumerateArray()).GetProperty("id").GetString());
        var cancelled = await JsonAsync(await SendAsync(HttpMethod.Post, "/api/v1/jobs/bulk/cancel", """{"queue":"emails","concurrency_key":"acme"}"""));
        Assert.Equal(1, cancelled.GetProperty("touched").GetInt64());
        Assert.Equal(JobState.Cancelled, (await _server.Store.JobGetAsync(acme.Id, Ct))!.State);
        Assert.Equal(JobState.Queued, (await _server.Store.JobGetAsync(beta.Id, Ct))!.State);
        var entry = (await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/audit", token: "reader-token"))).GetProperty("entries")[0];
        Assert.Equal("queue=emails concurrency_key=acme", entry.GetProperty("target").GetString());

        foreach (var query in new[] { "concurrency_key=", $"concurrency_key={new string('k', 256)}", "concurrency_key=%00" })
            Assert.Equal("concurrency_key", (await ProblemAsync(await SendAsync(HttpMethod.Get, $"/api/v1/jobs?{query}", token: "reader-token"), HttpStatusCode.BadRequest))
                .GetProperty("field").GetString());
        foreach (var body in new[] { """{"concurrency_key":""}""", """{"concurrency_key":"a\u0000b"}""" })
            Assert.Equal("concurrency_key", (await ProblemAsync(await SendAsync(HttpMethod.Post, "/api/v1/jobs/bulk/cancel", body), HttpStatusCode.BadRequest))
                .GetProperty("field").GetString());
    }

    [Fact]
    public async Task BulkRetry_PreviewThenActThenAudited()
    {
        var mail = new List<Guid>();
        for (var i = 0; i < 3; i++) mail.Add(await DeadAsync("mail", "emails"));
        await DeadAsync("sms", "emails");
        const string filter = """ "state":"dead","queue":"emails","type":"mail" """;

        var preview = await JsonAsync(await SendAsync(HttpMethod.Post, "/api/v1/jobs/bulk/retry", $$"""{{{filter}},"dry_run":true}"""));
        Assert.Equal("""{"action":"retry","dry_run":true,"matched":3,"touched":0,"remaining":3,"cursor":null}""", preview.GetRawText());
        // Any JSON spelling of a whole number, as the job and limits documents take theirs.
        var done = await JsonAsync(await SendAsync(HttpMethod.Post, "/api/v1/jobs/bulk/retry", $$"""{{{filter}},"max":2e0}"""));
        Assert.Equal($$"""{"action":"retry","dry_run":false,"matched":3,"touched":2,"remaining":1,"cursor":"{{mail[1]}}"}""", done.GetRawText());
        // The two retried jobs die again; the next call, after the cursor, takes only the third.
        foreach (var claimed in await _server.Store.JobClaimAsync(new JobClaimParams("w", [new QueueDemand("emails", 10)], TimeSpan.FromMinutes(1), []), Ct))
            await _server.Store.JobReportManyAsync([new JobFailedReport(claimed.Id, claimed.Attempt, "w", new JobError(JobErrorKinds.Exception, "no"), JobState.Dead, null)], Ct);
        var rest = await JsonAsync(await SendAsync(HttpMethod.Post, "/api/v1/jobs/bulk/retry", $$"""{{{filter}},"max":2,"cursor":"{{mail[1]}}"}"""));
        Assert.Equal($$"""{"action":"retry","dry_run":false,"matched":1,"touched":1,"remaining":0,"cursor":"{{mail[2]}}"}""", rest.GetRawText());
        Assert.Equal(JobState.Dead, (await _server.Store.JobGetAsync(mail[0], Ct))!.State);

        var audit = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/audit", token: "reader-token"));
        var entries = audit.GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(2, entries.Length); // the dry run changed nothing: no entry
        var entry = entries[1];
        Assert.Equal("admin-1", entry.GetProperty("actor").GetString());
        Assert.Equal("jobs.bulk_retry", entry.GetProperty("action").GetString());
        Assert.Equal("queue=emails type=mail state=dead", entry.GetProperty("target").GetString());
        Assert.Equal(2, entry.GetProperty("count").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, entry.GetProperty("detail").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, audit.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task Bulk_BadInput_ProblemNamingTheField()
    {
        async Task<string?> FieldAsync(string path, string body, string token = "admin-token") =>
            (await ProblemAsync(await SendAsync(HttpMethod.Post, path, body, token), HttpStatusCode.BadRequest)).GetProperty("field").GetString();

        Assert.Equal("state", await FieldAsync("/api/v1/jobs/bulk/retry", """{"state":"queued"}"""));
        Assert.Equal("state", await FieldAsync("/api/v1/jobs/bulk/cancel", """{"state":"succeeded"}"""));
        Assert.Equal("state", await FieldAsync("/api/v1/jobs/bulk/cancel", """{"dry_run":true}"""));
        Assert.Equal("max", await FieldAsync("/api/v1/jobs/bulk/cancel", """{"queue":"q","max":0}"""));
        Assert.Equal("max", await FieldAsync("/api/v1/jobs/bulk/cancel", """{"queue":"q","max":2.5}"""));
        Assert.Equal("max", await FieldAsync("/api/v1/jobs/bulk/cancel", """{"queue":"q","max":1e10}"""));
        Assert.Equal("max", await FieldAsync("/api/v1/jobs/bulk/cancel", """{"queue":"q","max":"5"}"""));
        Assert.Equal("cursor", await FieldAsync("/api/v1/jobs/bulk/retry", """{"queue":"q","cursor":"not-a-job"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/api/v1/jobs/bulk/cancel", """{"queue":"q"}""", "reader-token")).StatusCode);
    }

    [Fact]
    public async Task MutatingCalls_EachAuditedOnceWithActorAndTarget_FailuresNot()
    {
        var dead = await DeadAsync("mail", "emails");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"/api/v1/jobs/{dead}/retry")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, "/api/v1/queues/emails/pause")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"/api/v1/jobs/{Guid.CreateVersion7()}/cancel")).StatusCode);

        var entries = (await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/audit?limit=10", token: "reader-token"))).GetProperty("entries")
            .EnumerateArray().Select(e => (e.GetProperty("action").GetString(), e.GetProperty("target").GetString(), e.GetProperty("actor").GetString())).ToArray();
        Assert.Equal([("queues.pause", "queue emails", "admin-1"), ("jobs.retry", $"job {dead}", "admin-1")], entries);
        var filtered = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/v1/audit?action=jobs.retry", token: "reader-token"));
        Assert.Single(filtered.GetProperty("entries").EnumerateArray());
        var bad = await ProblemAsync(await SendAsync(HttpMethod.Get, "/api/v1/audit?who=me", token: "reader-token"), HttpStatusCode.BadRequest);
        Assert.Equal("who", bad.GetProperty("field").GetString());
    }

    [Fact]
    public void EveryMutatingEndpoint_AuditedOrExcludedByName()
    {
        var names = _server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Any(m => m != "GET") == true)
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? e.DisplayName ?? "?").ToArray();
        Assert.NotEmpty(names);
        foreach (var name in names)
            Assert.True(ApiAudit.Actions.ContainsKey(name) || ApiAudit.NotAudited.Contains(name), $"{name} is neither audited nor listed as not audited");
    }
}
