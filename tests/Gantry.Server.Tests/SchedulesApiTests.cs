using System.Net;
using System.Text.Json;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>/api/v1/schedules and /api/v1/queues/{name}/retention over real HTTP: save, read, list, pause, resume,
/// trigger, remove, and problem details naming the field, with nothing stored on bad input.</summary>
public sealed class SchedulesApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Save_ThenGetListPauseTriggerResumeRemove()
    {
        var created = await Http.PostJsonAsync("/api/v1/schedules",
            """{"name":"nightly","cron":"0 3 * * *","type":"echo","payload":{"a":1},"tz":"Europe/Berlin","missed":"once","tags":{"team":"x"}}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await JsonAsync(created);
        Assert.Equal("created", body.GetProperty("outcome").GetString());
        var view = body.GetProperty("schedule");
        Assert.Equal("Europe/Berlin", view.GetProperty("tz").GetString());
        Assert.Equal(3, view.GetProperty("next_fire_times").GetArrayLength());
        Assert.Equal(1, view.GetProperty("payload").GetProperty("a").GetInt32());

        var replaced = await Http.PostJsonAsync("/api/v1/schedules", """{"name":"nightly","cron":"0 4 * * *","type":"echo"}""");
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal("updated", (await JsonAsync(replaced)).GetProperty("outcome").GetString());

        var listed = await JsonAsync(await Http.GetAsync("/api/v1/schedules"));
        Assert.Equal("0 4 * * *", Assert.Single(listed.EnumerateArray()).GetProperty("cron").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/api/v1/schedules/nightly/pause", null)).StatusCode);
        var paused = await JsonAsync(await Http.GetAsync("/api/v1/schedules/nightly"));
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal(0, paused.GetProperty("next_fire_times").GetArrayLength());

        var trigger = await Http.PostAsync("/api/v1/schedules/nightly/trigger", null);
        Assert.Equal(HttpStatusCode.Created, trigger.StatusCode);
        var jobId = (await JsonAsync(trigger)).GetProperty("job_id").GetString()!;
        var job = await JsonAsync(await Http.GetAsync($"/api/v1/jobs/{jobId}"));
        Assert.Equal("nightly", job.GetProperty("tags").GetProperty("schedule").GetString());
        Assert.EndsWith("Z", job.GetProperty("tags").GetProperty("fire_time").GetString());
        Assert.Equal(jobId, (await JsonAsync(await Http.GetAsync("/api/v1/schedules/nightly"))).GetProperty("last_job_id").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/api/v1/schedules/nightly/resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/schedules/nightly")).StatusCode);
        var gone = await ProblemAsync(await Http.GetAsync("/api/v1/schedules/nightly"), HttpStatusCode.NotFound);
        Assert.Equal("No such schedule", gone.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("""{"name":"n","cron":"61 * * * *","type":"echo"}""", "cron")]
    [InlineData("""{"name":"n","cron":"0 3 * * *","type":"echo","tz":"Mars/Base"}""", "tz")]
    [InlineData("""{"name":"n","cron":"0 3 * * *","type":"nosuch"}""", "type")]
    [InlineData("""{"name":"n","cron":"0 3 * * *","type":"echo","missed":"sometimes"}""", "missed")]
    [InlineData("""{"name":"n","cron":"0 3 * * *","type":"echo","max_catchup":-1}""", "max_catchup")]
    [InlineData("""{"name":"n","cron":"0 3 * * *","type":"echo","when":"now"}""", "when")]
    [InlineData("""{"name":"bad name","cron":"0 3 * * *","type":"echo"}""", "name")]
    [InlineData("""{"cron":"0 3 * * *","type":"echo"}""", "name")]
    [InlineData("""{"name":"n","cron":"0 3 * * *","type":"echo","tags":{"schedule":"x"}}""", "tags")]
    public async Task Save_BadInput_ProblemNamingTheField_NothingStored(string body, string field)
    {
        var problem = await ProblemAsync(await Http.PostJsonAsync("/api/v1/schedules", body), HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(0, (await JsonAsync(await Http.GetAsync("/api/v1/schedules"))).GetArrayLength());
    }

    [Fact]
    public async Task Save_UnknownTypeAllowed_Stored()
    {
        var response = await Http.PostJsonAsync("/api/v1/schedules?allow_unknown_type=true", """{"name":"n","cron":"@daily","type":"later"}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task QueueRetention_SetListAndBadValue()
    {
        var set = await Http.PutAsync("/api/v1/queues/emails/retention",
            new StringContent("""{"succeeded_seconds":86400,"dead_seconds":2592000}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var listed = Assert.Single((await JsonAsync(await Http.GetAsync("/api/v1/queues/retention"))).EnumerateArray());
        Assert.Equal(86400, listed.GetProperty("succeeded_seconds").GetDouble());
        Assert.False(listed.TryGetProperty("cancelled_seconds", out _));

        var bad = await Http.PutAsync("/api/v1/queues/emails/retention",
            new StringContent("""{"succeeded_seconds":-1}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("succeeded_seconds", (await ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        bad = await Http.PutAsync("/api/v1/queues/emails/retention",
            new StringContent("""{"dead_seconds":1e300}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("dead_seconds", (await ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal(86400, JsonDocument.Parse(await Http.GetStringAsync("/api/v1/queues/retention")).RootElement[0].GetProperty("succeeded_seconds").GetDouble());
    }
}
