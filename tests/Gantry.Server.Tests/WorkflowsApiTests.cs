using System.Net;
using System.Text;
using System.Text.Json;
using Gantry.Storage;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>/api/v1/workflows over real HTTP: submit, read, list, cancel, and problem details naming the field.</summary>
public sealed class WorkflowsApiTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();
    private HttpClient Http => _server.Http;

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private const string FanIn = """
        {"name":"fan-in","steps":{
          "fetch":{"type":"echo"},
          "a":{"type":"echo","depends_on":["fetch"]},
          "b":{"type":"sleep","payload":{"ms":1},"depends_on":["fetch"]},
          "merge":{"type":"echo","depends_on":["a","b"]}}}
        """;

    private Task<HttpResponseMessage> PostAsync(string path, string body) => Http.PostJsonAsync(path, body);

    [Fact]
    public async Task Submit_Valid_CreatedWithStepJobIds_ThenShownListedAndCancelled()
    {
        var response = await PostAsync("/api/v1/workflows", FanIn);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await JsonAsync(response);
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/workflows/{id}", response.Headers.Location?.OriginalString);
        var steps = created.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(["fetch", "a", "b", "merge"], steps.Select(s => s.GetProperty("step").GetString()));
        Assert.Equal(["queued", "waiting", "waiting", "waiting"], steps.Select(s => s.GetProperty("state").GetString()));
        Assert.NotNull(await _server.Store.JobGetAsync(Guid.Parse(steps[3].GetProperty("job_id").GetString()!), CancellationToken.None));

        var shown = await JsonAsync(await Http.GetAsync($"/api/v1/workflows/{id}"));
        Assert.Equal("running", shown.GetProperty("state").GetString());
        var merge = shown.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "merge");
        Assert.Equal(2, merge.GetProperty("layer").GetInt32());
        Assert.Equal(["a", "b"], merge.GetProperty("depends_on").EnumerateArray().Select(e => e.GetString()));

        var page = await JsonAsync(await Http.GetAsync("/api/v1/workflows?state=running"));
        Assert.Equal(id, Assert.Single(page.GetProperty("workflows").EnumerateArray()).GetProperty("id").GetString());

        var cancel = await JsonAsync(await PostAsync($"/api/v1/workflows/{id}/cancel", ""));
        Assert.Equal(4, cancel.GetProperty("cancelled").GetInt32());
        Assert.Equal("cancelled", (await JsonAsync(await Http.GetAsync($"/api/v1/workflows/{id}"))).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Submit_Cycle_ProblemNamingTheCycle_NothingStored()
    {
        var response = await PostAsync("/api/v1/workflows", """
            {"name":"loop","steps":{"a":{"type":"echo","depends_on":["b"]},"b":{"type":"echo","depends_on":["a"]}}}
            """);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("steps", problem.GetProperty("field").GetString());
        Assert.StartsWith("steps: cycle: a → b → a", problem.GetProperty("detail").GetString());
        Assert.Empty(await _server.Store.WorkflowListAsync(new WorkflowListParams(), CancellationToken.None));
        Assert.Empty(await _server.Store.QueueStatsAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","max_attempts":0}}}""", "steps.a.max_attempts")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","depends_on":["zz"]}}}""", "steps.a.depends_on")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"nope"}}}""", "type")]
    [InlineData("", "body")]
    public async Task Submit_Invalid_ProblemNamingTheField(string body, string field)
    {
        var problem = await ProblemAsync(await PostAsync("/api/v1/workflows", body), HttpStatusCode.BadRequest);

        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Empty(await _server.Store.QueueStatsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Get_Unknown_NotFoundProblem()
    {
        await ProblemAsync(await Http.GetAsync($"/api/v1/workflows/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await ProblemAsync(await PostAsync($"/api/v1/workflows/{Guid.NewGuid()}/cancel", ""), HttpStatusCode.NotFound);
        var bad = await ProblemAsync(await Http.GetAsync("/api/v1/workflows/not-an-id"), HttpStatusCode.BadRequest);
        Assert.Equal("id", bad.GetProperty("field").GetString());
    }
}
