using System.Net;
using OpenQA.Selenium;

namespace Gantry.Dashboard.Tests;

/// <summary>The dashboard behind tokens: a sign-in page, a read session that sees everything and can change nothing, an admin one that acts with its anti-forgery token.</summary>
public sealed class SignInTests(TokenSite site) : IClassFixture<TokenSite>
{
    [Fact]
    public async Task ReadSession_SeesButCannotAct_AdminSessionDrainsTheWorker()
    {
        var id = await site.SubmitAsync("""{"type":"echo","queue":"secret","payload":{"card":"4111"}}""");
        await site.WaitForStateAsync(id, "succeeded");

        site.Open("#/");
        site.Element("form#signin", "the sign-in page");
        site.Screenshot("signin");
        site.Element("#token").SendKeys("not-a-token");
        site.Click("form#signin button");
        site.Element("form#signin .notice.error", "the refusal");

        site.Element("#token").Clear();
        site.Element("#token").SendKeys(TokenSite.ReadToken);
        site.Click("form#signin button");
        site.Element("table.queues tr[data-queue='secret']", "the overview");
        // The session is a cookie the page's scripts cannot read (HttpOnly), holding no token.
        var cookie = site.Browser.Manage().Cookies.GetCookieNamed("gantry_session");
        Assert.NotNull(cookie);
        Assert.True(cookie.IsHttpOnly);
        Assert.Equal("Strict", cookie.SameSite);
        Assert.DoesNotContain(TokenSite.ReadToken, cookie.Value, StringComparison.Ordinal);
        Assert.Equal("", site.Browser.ExecuteScript("return document.cookie.includes('gantry_session') ? 'visible' : '';"));
        // No action is offered to a read session...
        Assert.Empty(site.Browser.FindElements(By.CssSelector("button[data-action='pause-queue']")));
        site.Open($"#/jobs/{id}");
        site.Element("[data-hidden='payload']", "the payload hidden");
        Assert.Empty(site.Browser.FindElements(By.CssSelector("button[data-action='retry'], button[data-action='cancel']")));
        site.Open("#/workers");
        site.Element("table.workers tr[data-worker]", "the workers");
        Assert.Empty(site.Browser.FindElements(By.CssSelector("button[data-action='drain']")));
        site.Screenshot("read-session");
        // ...and the server refuses one anyway, with or without the anti-forgery token.
        Assert.Equal(403L, Fetch("api/v1/queues/secret/pause", withAntiforgery: true));
        Assert.Equal(403L, Fetch("api/v1/queues/secret/pause", withAntiforgery: false));
        // The API hides the payload from a read token too.
        using (var reader = new HttpClient { BaseAddress = new Uri(site.Url) })
        {
            reader.DefaultRequestHeaders.Authorization = new("Bearer", TokenSite.ReadToken);
            var job = System.Text.Json.JsonDocument.Parse(await reader.GetStringAsync($"/api/v1/jobs/{id}")).RootElement;
            Assert.Equal(System.Text.Json.JsonValueKind.Null, job.GetProperty("payload").ValueKind);
            Assert.False(job.TryGetProperty("result", out var result) && result.ValueKind != System.Text.Json.JsonValueKind.Null);
        }
        var admin = System.Text.Json.JsonDocument.Parse(await site.Http.GetStringAsync($"/api/v1/jobs/{id}")).RootElement;
        Assert.Equal("4111", admin.GetProperty("payload").GetProperty("card").GetString());

        // Sign out; sign in as admin.
        site.Click("button[data-action='sign-out']");
        site.Element("form#signin", "the sign-in page again");
        site.Element("#token").SendKeys(TokenSite.AdminToken);
        site.Click("form#signin button");
        site.Element("table.workers tr[data-worker] button[data-action='drain']", "the admin's drain button");
        site.Open("#/");
        site.Element("table.queues tr[data-queue='secret'] button[data-action='pause-queue']", "the admin's pause button");
        // An admin session's action without the anti-forgery token is refused; with it, it is done.
        Assert.Equal(403L, Fetch("api/v1/queues/secret/pause", withAntiforgery: false));
        Assert.Equal(204L, Fetch("api/v1/queues/secret/pause", withAntiforgery: true));
        Assert.Equal(204L, Fetch("api/v1/queues/secret/resume", withAntiforgery: true));

        site.Open("#/workers");
        site.Click("table.workers tr[data-worker] button[data-action='drain']", "the drain button");
        // The worker drains (and gantry run, whose only worker it is, then stops).
        await site.WaitForGantryOutputAsync("draining: finishing running jobs");
    }

    /// <summary>A POST from the page itself (same origin, with its session cookie), with or without the page's anti-forgery token.</summary>
    private long Fetch(string path, bool withAntiforgery) => Convert.ToInt64(site.Browser.ExecuteAsyncScript("""
        const [path, withToken, done] = arguments;
        (async () => {
          const session = await (await fetch('dashboard/session')).json();
          const headers = withToken ? { RequestVerificationToken: session.antiforgery } : {};
          const r = await fetch(path, { method: 'POST', headers });
          done(r.status);
        })().catch(e => done(-1));
        """, path, withAntiforgery), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task DashboardOff_RootIsNotFound()
    {
        await using var server = GantryProcess.StartDll(site.Directory, GantryProcess.CliPath, ["server", "--db", site.Db + ".off", "--listen", "127.0.0.1:0", "--dashboard", "off"], []);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", DashboardSite.Generous);
        Assert.DoesNotContain("dashboard", server.Stdout, StringComparison.Ordinal);
        var url = System.Text.RegularExpressions.Regex.Match(server.Stdout, @"api\s+(http://\S+)").Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/overview")).StatusCode);
        var (code, _, stderr) = await GantryProcess.RunAsync(site.Directory, null, "server", "--db", site.Db + ".bad", "--listen", "127.0.0.1:0", "--dashboard", "maybe");
        Assert.NotEqual(0, code);
        Assert.Contains("--dashboard", stderr, StringComparison.Ordinal);
    }
}
