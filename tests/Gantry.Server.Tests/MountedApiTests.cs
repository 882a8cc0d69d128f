using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

using static Gantry.Server.Tests.ApiCalls;

namespace Gantry.Server.Tests;

/// <summary>
/// The API mounted under a prefix in an app of its own (real Kestrel on 127.0.0.1): the app keeps its JSON (camelCase),
/// its <c>/openapi.json</c> and its <c>/metrics</c>; Gantry answers under <c>/gantry</c> in snake_case, with its own document.
/// </summary>
public sealed class MountedApiTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gantry-mounted-").FullName;
    private WebApplication? _app;
    private IJobStore _store = null!;
    private HttpClient _http = null!;

    public sealed record Person(string FirstName, string? MiddleName = null);

    public async Task InitializeAsync()
    {
        _store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dir, "gantry.db") }, CancellationToken.None);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(_store);
        builder.Services.AddOpenApi();
        builder.Services.AddGantryApi(new Gantry.Server.Api.ApiOptions { KnownJobTypes = ["echo"] });
        _app = builder.Build();
        _app.MapGet("/person", () => new Person("Ada"));
        _app.MapPost("/person", (Person p) => TypedResults.Ok(p with { MiddleName = "King" }));
        _app.MapGet("/metrics", () => "app metrics");
        _app.MapOpenApi("/openapi.json");
        _app.MapGantryApi("/gantry");
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task AppEndpoints_KeepTheAppsJson()
    {
        var got = await _http.GetStringAsync("/person?unknown=1");
        Assert.Contains("\"firstName\":\"Ada\"", got, StringComparison.Ordinal);

        var posted = await _http.PostAsJsonAsync("/person", new { firstName = "Grace" });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var body = await posted.Content.ReadAsStringAsync();
        Assert.Contains("\"firstName\":\"Grace\"", body, StringComparison.Ordinal);
        Assert.Contains("\"middleName\":\"King\"", body, StringComparison.Ordinal);

        // Gantry's request checks (here: an open API answers loopback host names only) stay under its prefix.
        using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "/person");
        elsewhere.Headers.Host = "app.example";
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(elsewhere)).StatusCode);
        using var gantry = new HttpRequestMessage(HttpMethod.Get, "/gantry/api/v1/jobs");
        gantry.Headers.Host = "app.example";
        Assert.Equal("Host", (await ProblemAsync(await _http.SendAsync(gantry), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task GantryEndpoints_UnderThePrefix_InSnakeCase()
    {
        var submitted = await _http.PostJsonAsync("/gantry/api/v1/jobs", """{"type":"echo","payload":{"firstName":"Ada"},"max_attempts":4}""");
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = (await JsonAsync(submitted)).GetProperty("id").GetString();

        var job = await JsonAsync(await _http.GetAsync($"/gantry/api/v1/jobs/{id}"));
        Assert.Equal(4, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal("Ada", job.GetProperty("payload").GetProperty("firstName").GetString());

        // Gantry's strict reading and its problem details hold under the prefix too.
        var problem = await ProblemAsync(await _http.PostJsonAsync("/gantry/api/v1/jobs", """{"type":"echo","max_attempts":0}"""), HttpStatusCode.BadRequest);
        Assert.Equal("body.max_attempts", problem.GetProperty("field").GetString());
        await ProblemAsync(await _http.GetAsync("/gantry/api/v1/jobs?colour=red"), HttpStatusCode.BadRequest);

        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/gantry/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/gantry/health/ready")).StatusCode);
        Assert.Contains("gantry_jobs{", await _http.GetStringAsync("/gantry/metrics"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task AppKeepsItsMetricsAndItsOpenApiDocument_GantryHasItsOwn()
    {
        Assert.Equal("app metrics", await _http.GetStringAsync("/metrics"));

        var app = JsonDocument.Parse(await _http.GetStringAsync("/openapi.json")).RootElement;
        var appPaths = app.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/person", appPaths);
        Assert.DoesNotContain(appPaths, p => p.StartsWith("/gantry", StringComparison.Ordinal));

        var gantry = JsonDocument.Parse(await _http.GetStringAsync("/gantry/openapi.json")).RootElement;
        Assert.Equal("Gantry API", gantry.GetProperty("info").GetProperty("title").GetString());
        var gantryPaths = gantry.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/gantry/api/v1/jobs", gantryPaths);
        Assert.DoesNotContain("/person", gantryPaths);
        // Its schemas name members as the API writes them.
        var jobView = gantry.GetProperty("components").GetProperty("schemas").GetProperty("JobView").GetProperty("properties");
        Assert.True(jobView.TryGetProperty("max_attempts", out _));
    }
}
