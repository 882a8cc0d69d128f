namespace Gantry.Cli.Tests;

/// <summary>gantry.json: process handlers served by `gantry run`, known to `submit`, and strict about mistakes.</summary>
[RunsLong(12)]
public sealed class ConfigTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public ConfigTests()
    {
        File.WriteAllText(_dir.File("shout.py"), """
            import json, sys
            job = json.load(sys.stdin)
            print(json.dumps({"progress": 50, "message": "shouting"}), flush=True)
            print("shouting to stderr", file=sys.stderr)
            print(json.dumps({"result": job["payload"]["text"].upper()}))
            """);
        File.WriteAllText(_dir.File("gantry.json"), """
            {
              "handlers": {
                "shout": { "command": ["python3", "shout.py"], "env": ["PATH", "HOME", "PYENV_ROOT"], "timeout_seconds": 30,
                           "limits": { "memory_mb": 128, "processes": 16 } }
              }
            }
            """);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Run_ConfiguredHandler_ServedAndKnownToSubmit()
    {
        // gantry.json in the working directory is read without --config.
        await using var run = GantryProcess.Start(_dir.Path, "run", "--db", _dir.Db);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains("job types  count, echo, fail, noop, shout, sleep", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("isolation  cgroup", run.Stdout, StringComparison.Ordinal);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "shout", "{\"text\":\"hello\"}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("succeeded on attempt 1: \"HELLO\"", stdout, StringComparison.Ordinal);
        var id = stdout.Split('\n')[0].Trim();

        (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "logs", id, "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("attempt 1", stdout, StringComparison.Ordinal);
        Assert.Contains("[stderr] shouting to stderr", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_ConfiguredTypeWithoutConfig_Unknown()
    {
        var elsewhere = Directory.CreateTempSubdirectory("gantry-noconfig-").FullName;
        try
        {
            var (code, _, stderr) = await GantryProcess.RunAsync(elsewhere, null, "submit", "shout", "--db", _dir.Db);
            Assert.Equal(1, code);
            Assert.Contains("unknown job type 'shout'", stderr, StringComparison.Ordinal);
            (code, _, stderr) = await GantryProcess.RunAsync(elsewhere, null, "submit", "shout", "--db", _dir.Db, "--config", _dir.File("gantry.json"));
            Assert.True(code == 0, stderr);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task Config_UnknownLimit_ErrorNamesThePlace()
    {
        File.WriteAllText(_dir.File("bad.json"), """{ "handlers": { "x": { "command": ["true"], "limits": { "mem": 64 } } } }""");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "run", "--db", _dir.Db, "--config", _dir.File("bad.json"));
        Assert.Equal(1, code);
        Assert.Contains("bad.json: handlers.x.limits: unknown field 'mem' (known fields: memory_mb, cpu, processes, output_kb)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_MissingCommandOrBuiltInName_Rejected()
    {
        File.WriteAllText(_dir.File("nocmd.json"), """{ "handlers": { "x": { "env": ["PATH"] } } }""");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "queues", "--db", _dir.Db, "--config", _dir.File("nocmd.json"));
        Assert.Equal(1, code);
        Assert.Contains("nocmd.json: handlers.x.command: is required", stderr, StringComparison.Ordinal);

        File.WriteAllText(_dir.File("builtin.json"), """{ "handlers": { "echo": { "command": ["cat"] } } }""");
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "--db", _dir.Db, "--config", _dir.File("builtin.json"));
        Assert.Equal(1, code);
        Assert.Contains("'echo' is a built-in job type", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "--db", _dir.Db, "--config", _dir.File("missing.json"));
        Assert.Equal(1, code);
        Assert.Contains("--config: ", stderr, StringComparison.Ordinal);
        Assert.Contains("missing.json does not exist", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoCgroupPossible_WarnsAndStillRunsWithRlimits()
    {
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db], [("GANTRY_ISOLATION", "rlimit")]);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains("isolation  rlimits only", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("WARNING    no cgroup can be made here: process handlers run with rlimits only", run.Stdout, StringComparison.Ordinal);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "shout", "{\"text\":\"limited\"}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("\"LIMITED\"", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobLimits_WiderThanItsTypeRefusedEverywhere_TighterRunsAndIsShown()
    {
        // The defaults fill what a handler leaves unset: shout's processes stay 16, its cpu becomes 2.
        File.WriteAllText(_dir.File("gantry.json"), """
            {
              "process_defaults": { "timeout_seconds": 60, "limits": { "memory_mb": 512, "cpu": 2, "processes": 64 } },
              "handlers": {
                "shout": { "command": ["python3", "shout.py"], "env": ["PATH", "HOME", "PYENV_ROOT"], "limits": { "memory_mb": 128, "processes": 16 } }
              }
            }
            """);
        File.WriteAllText(_dir.File("wide.json"), """{"type": "shout", "payload": {"text": "x"}, "limits": {"memory_mb": 256}}""");
        File.WriteAllText(_dir.File("wide-cpu.json"), """{"type": "shout", "payload": {"text": "x"}, "limits": {"cpu": 3}}""");
        File.WriteAllText(_dir.File("tight.json"), """{"type": "shout", "payload": {"text": "tight"}, "limits": {"memory_mb": 64, "processes": 8}}""");

        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", "wide.json", "--db", _dir.Db);
        Assert.NotEqual(0, code);
        Assert.Contains("limits.memory_mb: 256 is wider than job type 'shout' allows (memory_mb 128)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", "wide-cpu.json", "--db", _dir.Db);
        Assert.NotEqual(0, code);
        Assert.Contains("limits.cpu: 3 is wider than job type 'shout' allows (cpu 2)", stderr, StringComparison.Ordinal);

        await using var run = GantryProcess.Start(_dir.Path, "run", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = System.Text.RegularExpressions.Regex.Match(run.Stdout, @"api\s+(http://\S+)").Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        using var refused = await http.PostAsync("/api/v1/jobs", new StringContent(File.ReadAllText(_dir.File("wide.json")), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("limits.memory_mb", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        string stdout;
        (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", "tight.json", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        var id = stdout.Split('\n')[0].Trim();
        (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id, "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("""{"memory_mb":64,"processes":8}""", stdout, StringComparison.Ordinal);
        Assert.Matches(@"attempt 1: cpu \d+\.\d\d s, peak memory \d+\.\d MiB, exited with code 0", stdout);
    }

    [Fact]
    public async Task Alerts_JobGoesDead_WebhookReceivesASignedPost()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        const string secret = "whsec-test-0123456789";
        File.WriteAllText(_dir.File("alerts.json"), $$"""
            { "alerts": { "webhooks": [ { "url": "http://127.0.0.1:{{port}}/hook/", "secret": "{{secret}}", "events": ["job.dead"] } ] } }
            """);
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        await using var run = GantryProcess.Start(_dir.Path, "run", "--db", _dir.Db, "--config", _dir.File("alerts.json"));
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "fail", "{\"times\":5}", "--max-attempts", "1", "--wait", "--db", _dir.Db);
        Assert.NotEqual(0, code);
        var id = stdout.Split('\n')[0].Trim();

        var context = await listener.GetContextAsync().WaitAsync(Generous);
        string body;
        using (var reader = new StreamReader(context.Request.InputStream)) body = await reader.ReadToEndAsync();
        var signature = context.Request.Headers["Gantry-Signature"]!;
        context.Response.StatusCode = 204;
        context.Response.Close();

        Assert.Equal("job.dead", context.Request.Headers["Gantry-Event"]);
        Assert.Contains(id, body, StringComparison.Ordinal);
        // What a receiver does: HMAC-SHA256 of "{t}.{body}" with the secret, compared with v1.
        var t = signature.Split(',')[0]["t=".Length..];
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes($"{t}.{body}")));
        Assert.Equal($"t={t},v1={expected}", signature);
        Assert.InRange(long.Parse(t, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 120, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
    }

    [Theory]
    [InlineData("""{ "alerts": { "hooks": [] } }""", "alerts: unknown field 'hooks' (known fields: webhooks, queue_stalled_after_seconds)")]
    [InlineData("""{ "alerts": { "webhooks": [ { "url": "http://x/", "secret": "0123456789abcdef", "events": ["job.died"] } ] } }""", "alerts.webhooks[0].events: 'job.died' is not an event")]
    [InlineData("""{ "alerts": { "webhooks": [ { "url": "http://x/", "secret": "short" } ] } }""", "alerts.webhooks[0].secret: must be at least 16 characters")]
    [InlineData("""{ "process_defaults": { "limits": { "memory": "1GiB" } } }""", "process_defaults.limits: unknown field 'memory'")]
    public async Task Config_BadAlertsOrDefaults_ErrorNamesThePlace(string json, string message)
    {
        File.WriteAllText(_dir.File("bad.json"), json);
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "run", "--db", _dir.Db, "--config", _dir.File("bad.json"));
        Assert.Equal(1, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_ThroughANodeAndAWorker_ShownByJobsShowAndInTheWorkersHistograms()
    {
        // A node's worker process: the usage report goes worker → node (IPC) → store.
        await using (var node = GantryProcess.Start(_dir.Path, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--workers", "1"))
        {
            await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "shout", "{\"text\":\"node\"}", "--wait", "--db", _dir.Db);
            Assert.True(code == 0, stderr + stdout);
            var id = stdout.Split('\n')[0].Trim();
            (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id, "--db", _dir.Db);
            Assert.True(code == 0, stderr);
            Assert.Matches(@"attempt 1: cpu \d+\.\d\d s, peak memory \d+\.\d MiB, exited with code 0", stdout);
            (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id, "--json", "--db", _dir.Db);
            Assert.True(code == 0, stderr);
            using var view = System.Text.Json.JsonDocument.Parse(stdout);
            var usage = view.RootElement.GetProperty("attempts")[0].GetProperty("usage");
            Assert.Equal("exited", usage.GetProperty("outcome").GetString());
            Assert.True(usage.GetProperty("peak_memory_bytes").GetInt64() > 1 << 20);
            node.Signal(GantryProcess.SigTerm);
            await node.WaitForExitAsync(Generous);
        }

        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--db", _dir.Db, "--metrics-listen", "127.0.0.1:0");
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var metricsUrl = System.Text.RegularExpressions.Regex.Match(worker.Stdout, @"metrics\s+(http://\S+)/metrics").Groups[1].Value;
        var (done, _, err) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "shout", "{\"text\":\"worker\"}", "--wait", "--db", _dir.Db);
        Assert.True(done == 0, err);
        using var http = new HttpClient { BaseAddress = new Uri(metricsUrl) };
        var text = await http.GetStringAsync("/metrics");
        Assert.Matches(@"gantry_process_job_cpu_seconds_count\{[^}]*type=""shout""[^}]*\} 1", text);
        Assert.Matches(@"gantry_process_job_peak_memory_bytes_bucket\{[^}]*le=""16777216""[^}]*\} \d", text);
    }
}
