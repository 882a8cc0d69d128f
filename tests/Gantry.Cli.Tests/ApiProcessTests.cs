using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gantry.Cli.Tests;

/// <summary>`gantry run` serves the HTTP API: a job submitted over HTTP runs and is read back.</summary>
[RunsLong(23)]
public sealed partial class ApiProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Run_ServesApi_JobSubmittedOverHttpSucceeds()
    {
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--listen", "127.0.0.1:0"],
            [("GANTRY_TOKENS", "admin:test-admin-token")]);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = run.ApiUrl;
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/jobs")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "test-admin-token");
        var created = await http.PostAsync("/api/v1/jobs", new StringContent("""{"type":"echo","payload":{"over":"http"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        var deadline = DateTime.UtcNow + Generous;
        string state;
        JsonElement job;
        do
        {
            await Task.Delay(100);
            job = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/jobs/{id}")).RootElement;
            state = job.GetProperty("state").GetString()!;
        } while (state != "succeeded" && DateTime.UtcNow < deadline);
        Assert.Equal("succeeded", state);
        Assert.Equal("http", job.GetProperty("result").GetProperty("over").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        // The worker in the same process recorded the job: counters and histograms on /metrics.
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("gantry_process_jobs_completed_total{queue=\"default\",type=\"echo\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gantry_process_job_run_duration_seconds_count{queue=\"default\",type=\"echo\",outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gantry_process_job_queue_wait_seconds_count{queue=\"default\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gantry_process_claim_duration_seconds_count", metrics, StringComparison.Ordinal);
        Assert.Contains("gantry_process_report_duration_seconds_count", metrics, StringComparison.Ordinal);
        Assert.Contains("gantry_process_jobs_submitted_total{queue=\"default\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ClusterFromTheStore_PerProcessNamedSo()
    {
        // Two servers on one store; jobs submitted through one's API and straight to the store.
        await using var first = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await using var second = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await second.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        using var one = new HttpClient { BaseAddress = new Uri(first.ApiUrl) };
        using var two = new HttpClient { BaseAddress = new Uri(second.ApiUrl) };
        var created = await one.PostAsync("/api/v1/jobs", new StringContent("""{"type":"echo"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        for (var i = 0; i < 3; i++) await QuickRun.SubmitAsync(_dir, "echo");

        var fromOne = await one.GetStringAsync("/metrics");
        var fromTwo = await two.GetStringAsync("/metrics");
        // What the store says is the cluster's: the same four jobs on both servers, and its HELP says so.
        Assert.Contains("gantry_jobs{queue=\"default\",state=\"queued\"} 4", fromOne, StringComparison.Ordinal);
        Assert.Contains("gantry_jobs{queue=\"default\",state=\"queued\"} 4", fromTwo, StringComparison.Ordinal);
        Assert.Contains("# HELP gantry_jobs Jobs in the store, by queue and state (the whole cluster).", fromOne, StringComparison.Ordinal);
        // What one process counted is named per process: the first accepted one job, the second none.
        Assert.Contains("gantry_process_jobs_submitted_total{queue=\"default\"} 1", fromOne, StringComparison.Ordinal);
        Assert.DoesNotContain("gantry_process_jobs_submitted_total{", fromTwo, StringComparison.Ordinal);
        Assert.DoesNotContain("\ngantry_jobs_submitted_total", "\n" + fromOne, StringComparison.Ordinal);
        foreach (var line in fromOne.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')))
            Assert.Matches(@"^gantry_(process_|jobs\{|queue_paused\{|queue_oldest_queued_age_seconds\{|workers\{)", line);
    }

    [Fact]
    public async Task Run_NonLoopbackWithoutToken_Refused()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "run", "--db", _dir.Db, "--listen", "0.0.0.0:0");
        Assert.Equal(1, code);
        Assert.Contains("refusing to serve the API on 0.0.0.0:0 without a token", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db)); // refused before anything was touched
    }

    [Fact]
    public async Task Server_ListenIpv4MappedLoopback_ServedOnIpv4()
    {
        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "::ffff:127.0.0.1:0"], []);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Theory]
    [InlineData("10.254.254.1:5080", "cannot listen on 10.254.254.1:5080: ")]
    [InlineData("not a host:5080", "is not host:port")]
    public async Task Server_ListenOnAnAddressItCannotHave_OneLineNamingTheOption(string listen, string expected)
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["server", "--db", _dir.Db, "--listen", listen], ("GANTRY_TOKENS", "admin:test-admin-token"));
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: --listen: ", stderr, StringComparison.Ordinal);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(_dir.Db));
    }

    [Fact]
    public async Task Server_PortInUse_OneLineSayingSo()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "server", "--db", _dir.Db, "--listen", $"127.0.0.1:{port}");
        Assert.Equal(1, code);
        Assert.Equal($"gantry: --listen: cannot listen on 127.0.0.1:{port}: the port is in use", stderr.Trim());
    }

    [Fact]
    public async Task Server_AllowedHostsAndCorsOrigins_FromFlagsAndConfig()
    {
        var config = Path.Combine(_dir.Path, "gantry.json");
        await File.WriteAllTextAsync(config, """{"allowed_hosts":["gantry.internal"],"cors_origins":["https://ui.example"]}""");
        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath,
            ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0", "--config", config, "--allowed-hosts", "proxy.example", "--cors-origins", "https://app.example:8443"], []);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        using var http = new HttpClient { BaseAddress = new Uri(server.ApiUrl) };

        async Task<HttpStatusCode> GetAsync(string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs");
            request.Headers.Host = host;
            return (await http.SendAsync(request)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await GetAsync("gantry.internal"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("proxy.example:80"));
        Assert.Equal(HttpStatusCode.BadRequest, await GetAsync("attacker.example"));

        async Task<HttpStatusCode> SubmitFromAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent("""{"type":"echo"}""", Encoding.UTF8, "application/json") };
            request.Headers.Add("Origin", origin);
            return (await http.SendAsync(request)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.Created, await SubmitFromAsync("https://ui.example"));
        Assert.Equal(HttpStatusCode.Created, await SubmitFromAsync("https://app.example:8443"));
        Assert.Equal(HttpStatusCode.Forbidden, await SubmitFromAsync("https://attacker.example"));
    }

    [Fact]
    public async Task Server_WithTokens_AnswersItsDnsName_UnlessAllowedHostsGiven()
    {
        (string, string)[] tokens = [("GANTRY_TOKENS", "admin:test-admin-token")];
        async Task<HttpStatusCode> GetByNameAsync(params string[] extra)
        {
            await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0", .. extra], tokens);
            await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            using var http = new HttpClient { BaseAddress = new Uri(server.ApiUrl) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs");
            request.Headers.Host = "gantry-server.internal:8080";
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "test-admin-token");
            return (await http.SendAsync(request)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await GetByNameAsync());
        Assert.Equal(HttpStatusCode.BadRequest, await GetByNameAsync("--allowed-hosts", "proxy.example"));
    }

    [Theory]
    [InlineData("--allowed-hosts", "http://x.example", "--allowed-hosts[0]")]
    [InlineData("--cors-origins", "https://ui.example/path", "--cors-origins[0]")]
    public async Task Server_BadBrowserAccessList_OneLineNamingIt(string option, string value, string where)
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0", option, value);
        Assert.Equal(1, code);
        Assert.StartsWith($"gantry: {where}: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_OverHttpWithToken_RunsJobsWithoutTheStore()
    {
        (string, string)[] tokens = [("GANTRY_TOKENS", "admin:test-admin-token,worker:test-worker-token")];
        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0"], tokens);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;

        await using var worker = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["worker", "--server", url, "--token", "test-worker-token"], []);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains($"link       server {url}", worker.Stdout, StringComparison.Ordinal);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{\"via\":\"http worker\"}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr + stdout + worker.Output);
        Assert.Contains("succeeded on attempt 1: {\"via\":\"http worker\"}", stdout, StringComparison.Ordinal);

        var refused = await GantryProcess.RunAsync(_dir.Path, null, ["worker", "--server", url, "--token", "wrong-token-value"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("refused the worker's token (401)", refused.Stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"metrics\s+(http://\S+)/metrics")]
    private static partial Regex MetricsLine();

    [Fact]
    public async Task Worker_MetricsListen_ServesItsOwnCounters()
    {
        (string, string)[] tokens = [("GANTRY_TOKENS", "admin:test-admin-token,worker:test-worker-token,read:test-read-token")];
        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0"], tokens);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;
        await using var worker = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath,
            ["worker", "--server", url, "--token", "test-worker-token", "--metrics-listen", "127.0.0.1:0"], tokens);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var metricsUrl = MetricsLine().Match(worker.Stdout).Groups[1].Value;
        Assert.StartsWith("http://127.0.0.1:", metricsUrl, StringComparison.Ordinal);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr + stdout + worker.Output);

        using var http = new HttpClient { BaseAddress = new Uri(metricsUrl) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode); // tokens are configured: as for the API
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "test-read-token");
        var text = await http.GetStringAsync("/metrics");
        Assert.Contains("gantry_process_jobs_completed_total{queue=\"default\",type=\"echo\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gantry_process_claim_duration_seconds_count", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Worker_HealthReady_FalseWhileItsServerIsDown_TrueAfter()
    {
        var port = FreePort();
        GantryProcess StartServer() => GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", $"127.0.0.1:{port}");
        var server = StartServer();
        try
        {
            await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            await using var worker = GantryProcess.Start(_dir.Path, "worker", "--server", $"http://127.0.0.1:{port}", "--metrics-listen", "127.0.0.1:0");
            await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            using var http = new HttpClient { BaseAddress = new Uri(MetricsLine().Match(worker.Stdout).Groups[1].Value) };
            await WaitForStatusAsync(http, "/health/ready", HttpStatusCode.OK);
            // The gauges are there from the first scrape, before any job ran.
            var text = await http.GetStringAsync("/metrics");
            foreach (var gauge in new[] { "gantry_worker_running{", "gantry_worker_capacity{", "gantry_worker_paused{", "gantry_worker_draining{",
                "gantry_worker_held_leases{", "gantry_worker_heartbeat_age_seconds{" })
                Assert.Contains(gauge, text, StringComparison.Ordinal);
            Assert.Matches(@"gantry_worker_capacity\{worker=""[^""]+""\} 10\n", text);

            server.Signal(GantryProcess.SigTerm);
            Assert.Equal(0, await server.WaitForExitAsync(Generous));
            await server.DisposeAsync();
            await WaitForStatusAsync(http, "/health/ready", HttpStatusCode.ServiceUnavailable);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);

            server = StartServer();
            await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            await WaitForStatusAsync(http, "/health/ready", HttpStatusCode.OK);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForStatusAsync(HttpClient http, string path, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + Generous;
        HttpStatusCode last;
        while ((last = (await http.GetAsync(path)).StatusCode) != expected)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} still {(int)last}, not {(int)expected}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task PythonSampleWorker_AgainstRealServer_RunsItsJobs()
    {
        (string, string)[] tokens = [("GANTRY_TOKENS", "admin:test-admin-token,worker:test-worker-token")];
        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0"], tokens);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;

        var script = Path.Combine(Path.GetDirectoryName(GantryProcess.Built("Gantry.Cli", "gantry.dll"))!, "..", "..", "..", "..", "samples", "python", "worker.py");
        await using var python = GantryProcess.StartProgram(_dir.Path, "python3", [Path.GetFullPath(script), "--server", url, "--token", "test-worker-token"]);
        await python.WaitForOutputAsync("serving ['py-shout']", Generous);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "py-shout", "{\"text\":\"hello from c#\"}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr + stdout + python.Output);
        Assert.Contains("succeeded on attempt 1:", stdout, StringComparison.Ordinal);
        Assert.Contains("HELLO FROM C#", stdout, StringComparison.Ordinal);
        Assert.Contains("python", stdout, StringComparison.Ordinal);
    }
}
