using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Gantry.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests;

/// <summary>
/// The dashboard's server side over real HTTP: the overview and its event stream, the page and its files (mounted
/// under a prefix), sign-in sessions (HttpOnly, SameSite=Strict, no token in them), anti-forgery and scopes for a
/// session's actions, and payloads hidden from read-only callers.
/// </summary>
public sealed partial class DashboardApiTests : IAsyncLifetime
{
    private const string Admin = "admin-secret-1", Read = "read-secret-1", Worker = "worker-secret-1";
    private readonly string _dir = Directory.CreateTempSubdirectory("gantry-dash-").FullName;
    private readonly List<WebApplication> _apps = [];
    private IJobStore _store = null!;

    public async Task InitializeAsync() =>
        _store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dir, "gantry.db") }, CancellationToken.None);

    public async Task DisposeAsync()
    {
        foreach (var app in _apps) await app.DisposeAsync();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>An app with the API and the dashboard under <paramref name="prefix"/>; its base address.</summary>
    private async Task<Uri> StartAsync(ApiOptions options, string prefix = "")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(_store);
        builder.Services.AddGantryApi(options);
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        var app = builder.Build();
        app.MapGantryApi(prefix);
        app.MapGantryDashboard(prefix);
        await app.StartAsync();
        _apps.Add(app);
        return new Uri(app.Urls.First() + prefix + "/");
    }

    private static ApiOptions WithTokens(bool hide = false) => new() { Tokens = ApiToken.ParseList($"admin:{Admin},read:{Read},worker:{Worker}"), HidePayloadsFromReaders = hide };

    private static HttpClient Client(Uri root, out CookieContainer cookies)
    {
        cookies = new CookieContainer();
        return new HttpClient(new HttpClientHandler { CookieContainer = cookies, UseCookies = true, AllowAutoRedirect = false }) { BaseAddress = root };
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Overview_QueuesWorkersAndAttention_FromQueueStatistics()
    {
        var root = await StartAsync(new ApiOptions());
        await _store.EnqueueAsync(StoreTestExtensions.Job("echo", "mail"));
        await _store.EnqueueAsync(StoreTestExtensions.Job("echo", "mail"));
        using var http = Client(root, out _);
        var overview = JsonDocument.Parse(await http.GetStringAsync("api/v1/overview")).RootElement;
        var mail = overview.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "mail");
        Assert.Equal(2, mail.GetProperty("counts").GetProperty("queued").GetInt64());
        Assert.False(mail.GetProperty("paused").GetBoolean());
        Assert.True(mail.GetProperty("oldest_queued_age_seconds").GetDouble() >= 0);
        Assert.Equal(0, mail.GetProperty("done_per_minute").GetInt64());
        Assert.Equal(1, overview.GetProperty("series").GetArrayLength());
        Assert.Equal(0, overview.GetProperty("workers").GetProperty("live").GetInt32());
        // Queued with no live worker serving the queue: called out.
        Assert.Contains(overview.GetProperty("attention").EnumerateArray(), a => a.GetProperty("kind").GetString() == "unserved_queue" && a.GetProperty("queue").GetString() == "mail");

        var bad = await http.GetAsync("api/v1/overview?limit=3");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("limit", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Events_StreamTheOverview_AndEachChange()
    {
        var root = await StartAsync(new ApiOptions());
        using var http = Client(root, out _);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await http.GetAsync("api/v1/events", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        async Task<JsonElement> NextAsync()
        {
            string? line;
            while ((line = await reader.ReadLineAsync(cts.Token)) is not null)
                if (line.StartsWith("data: ", StringComparison.Ordinal)) return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            throw new EndOfStreamException();
        }
        var first = await NextAsync();
        Assert.Empty(first.GetProperty("queues").EnumerateArray());
        await _store.EnqueueAsync(StoreTestExtensions.Job("echo", "live"));
        var next = await NextAsync();
        Assert.Equal("live", next.GetProperty("queues")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Page_MountedUnderAPrefix_ServedWithItsFilesAndRules()
    {
        var root = await StartAsync(new ApiOptions(), "/gantry");
        using var http = Client(root, out _);
        var bare = await http.GetAsync(new Uri(root, "/gantry"));
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/gantry/", bare.Headers.Location?.OriginalString);
        var page = await http.GetAsync("");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("dashboard/app.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var file in new[] { "app.js", "api.js", "views.js", "svg.js", "app.css", "icon.svg" })
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"dashboard/{file}")).StatusCode);
        var script = await http.GetAsync("dashboard/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        using var again = new HttpRequestMessage(HttpMethod.Get, "dashboard/app.js");
        again.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await http.SendAsync(again)).StatusCode);
        var missing = await http.GetAsync("dashboard/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var session = JsonDocument.Parse(await http.GetStringAsync("dashboard/session")).RootElement;
        Assert.True(session.GetProperty("open").GetBoolean());
        Assert.True(session.GetProperty("can_act").GetBoolean());
    }

    [Fact]
    public async Task Session_ReadSeesAndCannotAct_AdminActsOnlyWithTheAntiforgeryToken()
    {
        var root = await StartAsync(WithTokens());
        using var http = Client(root, out var cookies);
        Assert.False(JsonDocument.Parse(await http.GetStringAsync("dashboard/session")).RootElement.GetProperty("signed_in").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("dashboard/session", Json("""{"token":"not-the-token"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("dashboard/session", Json($$"""{"token":"{{Worker}}"}"""))).StatusCode);
        foreach (var body in new[] { "{}", """{"token":"\ud800"}""" })
        {
            var noToken = await http.PostAsync("dashboard/session", Json(body));
            Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
            Assert.Equal("token", JsonDocument.Parse(await noToken.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        }
        // A form post (what a page on another site could send) is refused before anything is read.
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await http.PostAsync("dashboard/session", new StringContent($"token={Read}", Encoding.UTF8, "application/x-www-form-urlencoded"))).StatusCode);

        var signIn = await http.PostAsync("dashboard/session", Json($$"""{"token":"{{Read}}"}"""));
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var setCookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("gantry_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Read, setCookie, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/jobs")).StatusCode);
        var session = JsonDocument.Parse(await http.GetStringAsync("dashboard/session")).RootElement;
        Assert.Equal("read", session.GetProperty("scope").GetString());
        Assert.False(session.GetProperty("can_act").GetBoolean());
        using (var pause = new HttpRequestMessage(HttpMethod.Post, "api/v1/queues/default/pause"))
        {
            pause.Headers.Add("RequestVerificationToken", session.GetProperty("antiforgery").GetString());
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(pause)).StatusCode);
        }

        // Admin: refused without the anti-forgery token, done with it.
        await http.PostAsync("dashboard/session/end", null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("dashboard/session", Json($$"""{"token":"{{Admin}}"}"""))).StatusCode);
        var withoutToken = await http.PostAsync("api/v1/queues/default/pause", null);
        Assert.Equal(HttpStatusCode.Forbidden, withoutToken.StatusCode);
        Assert.Equal("RequestVerificationToken", JsonDocument.Parse(await withoutToken.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        var admin = JsonDocument.Parse(await http.GetStringAsync("dashboard/session")).RootElement;
        Assert.True(admin.GetProperty("can_act").GetBoolean());
        using (var pause = new HttpRequestMessage(HttpMethod.Post, "api/v1/queues/default/pause"))
        {
            pause.Headers.Add("RequestVerificationToken", admin.GetProperty("antiforgery").GetString());
            Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(pause)).StatusCode);
        }
        // A forged cookie is no session.
        cookies.Add(root, new Cookie("gantry_session", "forged"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task HidePayloads_ReadTokenGetsNone_AdminGetsThem()
    {
        var root = await StartAsync(WithTokens(hide: true));
        var id = await _store.EnqueueAsync(StoreTestExtensions.Job("echo") with { Payload = """{"card":"4111"}""" });
        using var http = Client(root, out _);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Read);
        var job = JsonDocument.Parse(await http.GetStringAsync($"api/v1/jobs/{id}")).RootElement;
        Assert.Equal(JsonValueKind.Null, job.GetProperty("payload").ValueKind);
        var list = JsonDocument.Parse(await http.GetStringAsync("api/v1/jobs")).RootElement;
        Assert.Equal(JsonValueKind.Null, list.GetProperty("jobs")[0].GetProperty("payload").ValueKind);
        Assert.DoesNotContain("4111", await http.GetStringAsync("api/v1/jobs"), StringComparison.Ordinal);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        Assert.Equal("4111", JsonDocument.Parse(await http.GetStringAsync($"api/v1/jobs/{id}")).RootElement.GetProperty("payload").GetProperty("card").GetString());
    }
}
