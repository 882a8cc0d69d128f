using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Gantry.Dashboard.Tests;

/// <summary>
/// A real <c>gantry run</c> on a temporary SQLite store and one headless Debian chromium (driven through
/// /usr/bin/chromedriver, never a downloaded browser) for a test class. Screenshots go to artifacts/dashboard/.
/// </summary>
public abstract partial class DashboardSite : IAsyncLifetime
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    public const string Chromium = "/usr/bin/chromium";
    public const string ChromeDriver = "/usr/bin/chromedriver";

    private readonly TempDir _dir = new();
    private GantryProcess? _gantry;
    private ChromeDriver? _driver;

    public string Url { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;
    public ChromeDriver Browser => _driver!;
    public string Db => _dir.Db;
    public string Directory => _dir.Path;

    /// <summary>The store <c>gantry run</c> opens: the temporary SQLite file unless a site says otherwise.</summary>
    protected virtual Task<string[]> StoreArgsAsync() => Task.FromResult(new[] { "--db", _dir.Db });

    /// <summary>Extra arguments of <c>gantry run</c>, and its environment (tokens).</summary>
    protected virtual string[] RunArgs => [];
    protected virtual (string, string)[] RunEnv => [];
    /// <summary>A bearer token for <see cref="Http"/>; null on an open API.</summary>
    protected virtual string? HttpToken => null;

    [GeneratedRegex(@"api\s+(http://\S+)")]
    private static partial Regex ApiLine();

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
            throw new InvalidOperationException($"the browser tests need Debian's chromium and chromium-driver ({Chromium}, {ChromeDriver}): apt-get install chromium chromium-driver (test.sh does as root)");
        // A process handler, whose attempts record what they consumed (shown on the job's page).
        File.WriteAllText(Path.Combine(_dir.Path, "gantry.json"),
            """{"handlers": {"burn": {"command": ["sh", "-c", "cat >/dev/null; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"]}}}""");
        _gantry = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath,
            ["run", .. await StoreArgsAsync(), "--listen", "127.0.0.1:0", "--queues", "default:8,mail:2,filters:2,pausable:2,secret:2,tenants:4", .. RunArgs], RunEnv);
        await _gantry.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Url = ApiLine().Match(_gantry.Stdout).Groups[1].Value;
        Http = new HttpClient { BaseAddress = new Uri(Url), Timeout = Generous };
        if (HttpToken is { } token) Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        // The driver's path is given, so Selenium Manager never runs (nothing is downloaded).
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1360,1000", $"--user-data-dir={Path.Combine(_dir.Path, "chromium")}");
        _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(90));
        _driver.Manage().Timeouts().AsynchronousJavaScript = Generous;
    }

    public virtual async Task DisposeAsync()
    {
        try { _driver?.Quit(); } catch (WebDriverException) { }
        _driver?.Dispose();
        Http?.Dispose();
        if (_gantry is not null) await _gantry.DisposeAsync();
        _dir.Dispose();
    }

    public string GantryOutput => _gantry?.Output ?? "";

    public Task WaitForGantryOutputAsync(string text) => _gantry!.WaitForOutputAsync(text, Generous);

    /// <summary>Opens a view (<c>#/jobs</c>) of the dashboard.</summary>
    public void Open(string hash = "#/")
    {
        Browser.Navigate().GoToUrl(Url + "/" + hash);
    }

    /// <summary>Waits until <paramref name="condition"/> holds in the page (elements may be replaced while it looks).</summary>
    public T WaitFor<T>(Func<T?> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Generous);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var value = condition();
                if (value is not null && !(value is bool b && !b)) return value;
            }
            catch (WebDriverException ex) when (ex is NoSuchElementException or StaleElementReferenceException)
            {
                last = ex;
            }
            Thread.Sleep(100);
        }
        Screenshot("timeout-" + Regex.Replace(what, "[^a-z0-9]+", "-"));
        throw new TimeoutException($"the dashboard did not show {what} within {timeout ?? Generous}{(last is null ? "" : $" ({last.Message})")}");
    }

    public IWebElement Element(string css, string? what = null) => WaitFor(() => Browser.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed), what ?? css);

    /// <summary>Clicks the element, looked up afresh each try: live views replace their elements while they update.</summary>
    public void Click(string css, string? what = null) => WaitFor(() =>
    {
        var element = Browser.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed);
        if (element is null) return false;
        element.Click();
        return true;
    }, what ?? css);

    /// <summary>Saves a screenshot to artifacts/dashboard/<paramref name="name"/>.png.</summary>
    public string Screenshot(string name)
    {
        var dir = Path.Combine(RepositoryRoot(), "artifacts", "dashboard");
        System.IO.Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".png");
        Browser.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gantry.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("no Gantry.slnx above " + AppContext.BaseDirectory);
    }

    /// <summary>Submits a job over the API; returns its id.</summary>
    public async Task<string> SubmitAsync(string json)
    {
        var response = await Http.PostAsync("/api/v1/jobs", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Opens the page of running job <paramref name="id"/> and waits until its progress bar moves, with no reload of
    /// the page meanwhile (a marker on its window would be gone).</summary>
    public void WatchProgressMove(string id)
    {
        Open($"#/jobs/{id}");
        Element("#job-state [data-state='running']", "the running state");
        Browser.ExecuteScript("window.__noReload = 42;");
        var first = WaitFor(() => (double?)Progress(), "the progress")!.Value;
        WaitFor(() => Progress() > first + 1, "the progress bar moving");
        Assert.Equal(42L, Browser.ExecuteScript("return window.__noReload;"));
    }

    /// <summary>The job page's progress bar, in percent.</summary>
    public double Progress()
    {
        var text = Element("#job-progress").GetAttribute("data-progress");
        return string.IsNullOrEmpty(text) ? 0 : double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls the API until the job is in <paramref name="state"/>.</summary>
    public async Task WaitForStateAsync(string id, params string[] states)
    {
        var deadline = DateTime.UtcNow + Generous;
        string state;
        do
        {
            state = (await GetAsync($"/api/v1/jobs/{id}")).GetProperty("state").GetString()!;
            if (states.Contains(state)) return;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"job {id} stayed {state}, never {string.Join(" or ", states)}");
    }
}

/// <summary>An open <c>gantry run</c> (loopback, no tokens): the dashboard needs no sign-in and may act.</summary>
public sealed class OpenSite : DashboardSite;

/// <summary>An open <c>gantry run --store postgres://…</c> on a throwaway PostgreSQL cluster (initdb, as the store tests start it).</summary>
public sealed class PostgresSite : DashboardSite
{
    private Gantry.Testing.PostgresCluster? _cluster;

    protected override async Task<string[]> StoreArgsAsync()
    {
        _cluster = await Gantry.Testing.PostgresCluster.StartAsync();
        await _cluster.ExecuteAsync("CREATE DATABASE dashboard");
        return ["--store", _cluster.Url("dashboard")];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

/// <summary>A <c>gantry run</c> with an admin and a read token, payloads hidden from read sessions.</summary>
public sealed class TokenSite : DashboardSite
{
    public const string AdminToken = "admin-secret-token";
    public const string ReadToken = "read-secret-token";
    protected override string[] RunArgs => ["--dashboard-hide-payloads"];
    protected override (string, string)[] RunEnv => [("GANTRY_TOKENS", $"admin:{AdminToken},read:{ReadToken}")];
    protected override string? HttpToken => AdminToken;
}
