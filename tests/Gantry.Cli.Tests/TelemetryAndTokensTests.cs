using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gantry.Cli.Tests;

/// <summary>Tokens from the config file (hashed), `gantry token new`, and metrics exported over OTLP to a real HTTP receiver.</summary>
public sealed partial class TelemetryAndTokensTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex(@"token   (\S+)\nconfig  (\{.*\})")]
    private static partial Regex TokenOutput();

    [Fact]
    public async Task TokenNew_ConfigEntry_AdmitsTheTokenWithItsScope()
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "token", "new", "--scope", "submit", "--name", "ci");
        Assert.True(code == 0, stderr);
        var m = TokenOutput().Match(stdout.Replace("\r", "", StringComparison.Ordinal));
        Assert.True(m.Success, stdout);
        var token = m.Groups[1].Value;
        var entry = JsonDocument.Parse(m.Groups[2].Value).RootElement;
        Assert.Equal("submit", entry.GetProperty("scope").GetString());
        Assert.DoesNotContain(token, m.Groups[2].Value, StringComparison.Ordinal); // only the hash is configured

        var config = Path.Combine(_dir.Path, "gantry.json");
        await File.WriteAllTextAsync(config, $$"""{ "tokens": [ {{m.Groups[2].Value}} ] }""");
        // Beyond loopback is allowed now that a token is configured; the test still talks to it on loopback.
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--config", config, "--listen", "0.0.0.0:0"], []);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var port = new Uri(run.ApiUrl.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal)).Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/jobs")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("/api/v1/queues/default/pause", null)).StatusCode); // submit is not admin
    }

    [Fact]
    public async Task Config_BadTokenEntry_OneLineNamingThePlace()
    {
        var config = Path.Combine(_dir.Path, "bad.json");
        await File.WriteAllTextAsync(config, """{ "tokens": [ { "scope": "submit", "sha256": "not-hex" } ] }""");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "run", "--db", _dir.Db, "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("bad.json: tokens[0].sha256: expected the token's SHA-256 as 64 hex digits", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Telemetry_OtlpHttp_MetricsAndSpansArriveAtTheCollector()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        var receiving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch (Exception) { return; }
                using var body = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(body);
                received.Enqueue((ctx.Request.Url!.AbsolutePath, ctx.Request.ContentType ?? "", body.ToArray()));
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "application/x-protobuf";
                ctx.Response.Close();
            }
        });

        var config = Path.Combine(_dir.Path, "gantry.json");
        await File.WriteAllTextAsync(config, $$"""
            { "telemetry": { "otlp_endpoint": "http://127.0.0.1:{{port}}", "otlp_protocol": "http/protobuf", "export_interval_seconds": 1 } }
            """);
        await using (var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--config", config, "--listen", "off"], []))
        {
            await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{}", "--wait", "--db", _dir.Db);
            Assert.True(code == 0, stderr + stdout);
            var deadline = DateTime.UtcNow + Generous;
            while (DateTime.UtcNow < deadline && !received.Any(r => Encoding.UTF8.GetString(r.Body).Contains("gantry.process.jobs.completed", StringComparison.Ordinal)))
                await Task.Delay(200);
            // The attempt's span leaves at the latest when the process stops: its tracer provider flushes.
            run.Signal(GantryProcess.SigTerm);
            await run.WaitForExitAsync(Generous);
        }
        listener.Stop();
        await receiving;

        var export = received.FirstOrDefault(r => Encoding.UTF8.GetString(r.Body).Contains("gantry.process.jobs.completed", StringComparison.Ordinal));
        Assert.True(export.Body is not null, $"no OTLP export carried gantry.process.jobs.completed ({received.Count} requests)");
        Assert.Equal("/v1/metrics", export.Path);
        Assert.Equal("application/x-protobuf", export.ContentType);
        Assert.Contains("gantry.process.job.run_duration", Encoding.UTF8.GetString(export.Body), StringComparison.Ordinal);
        Assert.Contains(received, r => r.Path == "/v1/traces" && Encoding.UTF8.GetString(r.Body).Contains("gantry run echo", StringComparison.Ordinal));
    }

    /// <summary>
    /// A job submitted over the API inside a trace (the caller's <c>traceparent</c> header) records that trace, and an HTTP
    /// worker in another process runs it as a child of the span that enqueued it: its exported span carries the trace id
    /// and, as parent, the span the job recorded.
    /// </summary>
    [Fact]
    public async Task Trace_FromAnApiCall_ReachesTheRunInAnHttpWorkerProcess()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var traces = new ConcurrentQueue<byte[]>();
        var receiving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch (Exception) { return; }
                using var body = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(body);
                if (ctx.Request.Url!.AbsolutePath == "/v1/traces") traces.Enqueue(body.ToArray());
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "application/x-protobuf";
                ctx.Response.Close();
            }
        });
        var config = Path.Combine(_dir.Path, "gantry.json");
        await File.WriteAllTextAsync(config, $$"""
            { "telemetry": { "otlp_endpoint": "http://127.0.0.1:{{port}}", "otlp_protocol": "http/protobuf", "export_interval_seconds": 1 } }
            """);

        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--listen", "127.0.0.1:0"], []);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;
        await using var worker = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["worker", "--server", url, "--config", config], []);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent("""{"type":"echo","payload":{"traced":true}}""", Encoding.UTF8, "application/json") };
        submit.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01");
        var submitted = await http.SendAsync(submit);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        JsonElement job = default;
        var deadline = DateTime.UtcNow + Generous;
        while (DateTime.UtcNow < deadline)
        {
            job = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/jobs/{id}")).RootElement;
            if (job.GetProperty("state").GetString() == "succeeded") break;
            await Task.Delay(100);
        }
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.ToString() + worker.Output);
        Assert.Equal(traceId.ToHexString(), job.GetProperty("trace_id").GetString());
        var parentSpan = job.GetProperty("traceparent").GetString()!.Split('-')[2];

        // The worker's tracer provider flushes when it stops.
        worker.Signal(GantryProcess.SigTerm);
        await worker.WaitForExitAsync(Generous);
        listener.Stop();
        await receiving;

        var runs = traces.Where(b => Encoding.UTF8.GetString(b).Contains("gantry run echo", StringComparison.Ordinal)).ToArray();
        Assert.True(runs.Length > 0, $"no exported span of the run ({traces.Count} trace exports)");
        Assert.Contains(runs, b => Contains(b, Convert.FromHexString(traceId.ToHexString())) && Contains(b, Convert.FromHexString(parentSpan)));
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
