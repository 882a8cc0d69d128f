using System.Net;
using System.Text;
using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>
/// The main endpoints of a real <c>gantry run</c> (submit, get, list, queues, workers, the overview, the dashboard's first
/// page and session, bad input, the OpenAPI document) answer with the JSON the API's clients read. The API reads and
/// writes JSON only through source-generated metadata and its endpoints are made by the request-delegate generator in
/// every build, so the JIT build runs here the code a Native AOT build runs. With <c>GANTRY_TEST_AOT_BINARY</c> naming a
/// Native AOT build (<c>./build-aot.sh</c> → <c>artifacts/gantry-aot/gantry</c>), the same calls go to it too and every
/// answer must have the same shape (the same keys, nulls written or left out alike) as the JIT build's.
/// </summary>
public sealed partial class ServedApiTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly List<TempDir> _dirs = [];

    public void Dispose()
    {
        foreach (var d in _dirs) d.Dispose();
    }

    [Fact]
    public async Task Run_MainEndpoints_AnswerAsTheApiDescribes()
    {
        var jit = await WalkAsync(GantryProcess.CliPath);
        if (Environment.GetEnvironmentVariable("GANTRY_TEST_AOT_BINARY") is not { Length: > 0 } aot) return;
        Assert.True(File.Exists(aot), $"GANTRY_TEST_AOT_BINARY names no file: {aot}");
        var native = await WalkAsync(Path.GetFullPath(aot));
        Assert.Equal(jit.Select(a => a.Call), native.Select(a => a.Call));
        foreach (var (j, n) in jit.Zip(native)) Assert.Equal(j, n);
    }

    /// <summary>One call's answer as compared between builds: its status, media type and the JSON's shape.</summary>
    private sealed record Answer(string Call, int Status, string? MediaType, string Shape);

    /// <summary>Starts <c>gantry run</c> from <paramref name="program"/> on a new store and calls the main endpoints.</summary>
    private async Task<List<Answer>> WalkAsync(string program)
    {
        var dir = new TempDir();
        _dirs.Add(dir);
        await using var run = GantryProcess.StartDll(dir.Path, program, ["run", "--db", dir.Db, "--listen", "127.0.0.1:0"], []);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        using var http = new HttpClient { BaseAddress = new Uri(run.ApiUrl) };
        var answers = new List<Answer>();

        async Task<JsonElement> Call(string name, HttpMethod method, string path, string? body, HttpStatusCode expected)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{name}: {method} {path} answered {(int)response.StatusCode}, not {(int)expected}: {text}\n{run.Output}");
            var media = response.Content.Headers.ContentType?.MediaType;
            var json = media is "application/json" or "application/problem+json" ? JsonDocument.Parse(text).RootElement.Clone() : default;
            answers.Add(new Answer(name, (int)response.StatusCode, media, json.ValueKind == JsonValueKind.Undefined ? "" : Shape(json)));
            return json;
        }

        var submitted = await Call("submit", HttpMethod.Post, "/api/v1/jobs", """{"type":"echo","payload":{"over":"http"},"tags":{"team":"a"}}""", HttpStatusCode.Created);
        Assert.Equal(["id", "state", "existing", "type", "queue"], submitted.EnumerateObject().Select(p => p.Name));
        var id = submitted.GetProperty("id").GetString()!;

        var deadline = DateTime.UtcNow + Generous;
        JsonElement job;
        while (true)
        {
            using var poll = await http.GetAsync($"/api/v1/jobs/{id}");
            job = JsonDocument.Parse(await poll.Content.ReadAsStringAsync()).RootElement.Clone();
            if (job.GetProperty("state").GetString() == "succeeded" || DateTime.UtcNow > deadline) break;
            await Task.Delay(100);
        }
        job = await Call("get", HttpMethod.Get, $"/api/v1/jobs/{id}", null, HttpStatusCode.OK);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal("http", job.GetProperty("result").GetProperty("over").GetString());
        Assert.Equal("a", job.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal(5, job.GetProperty("max_attempts").GetInt32());
        // The API leaves nulls out: a job that never failed has no "errors", no "progress_message".
        Assert.DoesNotContain(job.EnumerateObject(), p => p.Value.ValueKind == JsonValueKind.Null);

        var page = await Call("list", HttpMethod.Get, "/api/v1/jobs?limit=10", null, HttpStatusCode.OK);
        Assert.Equal(id, Assert.Single(page.GetProperty("jobs").EnumerateArray()).GetProperty("id").GetString());

        var queues = await Call("queues", HttpMethod.Get, "/api/v1/queues", null, HttpStatusCode.OK);
        var queue = Assert.Single(queues.EnumerateArray());
        Assert.Equal("default", queue.GetProperty("queue").GetString());
        Assert.Equal(1, queue.GetProperty("succeeded").GetInt64());
        await Call("pause", HttpMethod.Post, "/api/v1/queues/default/pause", null, HttpStatusCode.NoContent);
        await Call("resume", HttpMethod.Post, "/api/v1/queues/default/resume", null, HttpStatusCode.NoContent);

        var workers = await Call("workers", HttpMethod.Get, "/api/v1/workers", null, HttpStatusCode.OK);
        var worker = Assert.Single(workers.EnumerateArray());
        Assert.Equal(10, worker.GetProperty("queues").GetProperty("default").GetInt32());
        Assert.Equal(JsonValueKind.Array, worker.GetProperty("running_job_ids").ValueKind);

        var overview = await Call("overview", HttpMethod.Get, "/api/v1/overview", null, HttpStatusCode.OK);
        Assert.Equal(1, overview.GetProperty("workers").GetProperty("live").GetInt32());

        // Bad input: problem details naming the field, nothing changed.
        var problem = await Call("bad submit", HttpMethod.Post, "/api/v1/jobs", """{"type":"echo","priorty":1}""", HttpStatusCode.BadRequest);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains("priorty", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Call("bad heartbeat", HttpMethod.Post, "/api/v1/worker/heartbeat", """{"worker_id":"w"}""", HttpStatusCode.BadRequest);
        await Call("no such job", HttpMethod.Get, "/api/v1/jobs/0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f", null, HttpStatusCode.NotFound);

        // The dashboard: its page, and its session answer, which writes nulls (the page reads "name": null).
        using (var index = await http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Contains("<html", await index.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
            answers.Add(new Answer("dashboard", (int)index.StatusCode, index.Content.Headers.ContentType?.MediaType, ""));
        }
        var session = await Call("session", HttpMethod.Get, "/dashboard/session", null, HttpStatusCode.OK);
        Assert.True(session.GetProperty("open").GetBoolean());
        Assert.Equal(JsonValueKind.Null, session.GetProperty("name").ValueKind);

        using (var openApi = await http.GetAsync("/openapi.json"))
        {
            Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
            var document = JsonDocument.Parse(await openApi.Content.ReadAsStringAsync()).RootElement;
            Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/jobs", out _));
            // Schemas name members as the API writes them.
            Assert.True(document.GetProperty("components").GetProperty("schemas").GetProperty("JobView").GetProperty("properties").TryGetProperty("max_attempts", out _));
        }
        return answers;
    }

    /// <summary>A JSON value's shape: its keys and kinds, recursively, without its values (ids and times differ run to run).</summary>
    private static string Shape(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", e.EnumerateObject().Select(p => p.Name + ":" + Shape(p.Value))) + "}",
        // An array's distinct element shapes: how many elements there are depends on timing (the overview's minutes).
        JsonValueKind.Array => "[" + string.Join("|", e.EnumerateArray().Select(Shape).Distinct()) + "]",
        JsonValueKind.True or JsonValueKind.False => "bool",
        var kind => kind.ToString().ToLowerInvariant(),
    };
}
