using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>
/// One configuration model for run, server, worker and node: gantry.json's section named after the command, then
/// GANTRY_&lt;COMMAND&gt;__&lt;KEY&gt; variables, then flags, later winning; each checked through real processes.
/// </summary>
public sealed class ConfigurationTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void WriteConfig(string json) => File.WriteAllText(_dir.File("gantry.json"), json);

    private static async Task StopAsync(GantryProcess process)
    {
        process.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await process.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task Run_FileEnvAndFlag_FlagBeatsEnvBeatsFile()
    {
        WriteConfig("""{ "run": { "Name": "from-file", "Queues": { "fileq": 1 }, "Capacity": 7, "Listen": "off" } }""");
        // The test harness listens on :0 through GANTRY_LISTEN; here the file's Listen is to show.
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--name", "from-flag"],
            [("GANTRY_LISTEN", ""), ("GANTRY_RUN__NAME", "from-env"), ("GANTRY_RUN__QUEUES__envq", "2")]);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        Assert.Contains("\"from-flag\"", run.Stdout, StringComparison.Ordinal);        // flag over env and file
        Assert.Contains("queues     envq (concurrency 2); capacity 7", run.Stdout, StringComparison.Ordinal); // env over file; file over default
        Assert.Contains("api        off", run.Stdout, StringComparison.Ordinal);
        await StopAsync(run);
    }

    [Fact]
    public async Task Server_FileEnvAndFlag_FlagBeatsEnvBeatsFile()
    {
        WriteConfig("""{ "server": { "Listen": "off", "JobsDir": "dir-file", "ResultsDir": "results-file" } }""");
        await using var server = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["server", "--db", _dir.Db, "--jobs-dir", "dir-flag"],
            [("GANTRY_LISTEN", ""), ("GANTRY_SERVER__LISTEN", "127.0.0.1:0"), ("GANTRY_SERVER__JOBSDIR", "dir-env")]);
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        Assert.Matches(@"api        http://127\.0\.0\.1:\d+", server.Stdout);                   // env over file
        Assert.Contains($"jobs dir   {_dir.File("dir-flag")} (results in {_dir.File("results-file")})", server.Stdout, StringComparison.Ordinal);
        await StopAsync(server);
    }

    [Fact]
    public async Task Worker_FileEnvAndFlag_FlagBeatsEnvBeatsFile_NameListed()
    {
        WriteConfig("""{ "worker": { "Name": "from-file", "Store": "sqlite:elsewhere.db", "Capacity": 5 } }""");
        await using var worker = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["worker", "--name", "from-flag", "--poll-interval", "50ms"],
            [("GANTRY_WORKER__NAME", "from-env"), ("GANTRY_WORKER__STORE", $"sqlite:{_dir.Db}")]);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        Assert.Contains($"link       sqlite:{_dir.Db}", worker.Stdout, StringComparison.Ordinal);   // env over file
        Assert.Contains("\"from-flag\"", worker.Stdout, StringComparison.Ordinal);           // flag over env
        Assert.Contains("; capacity 5", worker.Stdout, StringComparison.Ordinal);             // file over default
        Assert.False(File.Exists(_dir.File("elsewhere.db")));

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "workers", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("NAME", stdout, StringComparison.Ordinal);
        Assert.Contains("from-flag", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "workers", "--db", _dir.Db, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("from-flag", JsonDocument.Parse(stdout).RootElement[0].GetProperty("name").GetString());
        await StopAsync(worker);
    }

    [Fact]
    public async Task Node_FileEnvAndFlag_FlagBeatsEnvBeatsFile_NameInStatus()
    {
        var runDir = _dir.File("run");
        WriteConfig("""{ "node": { "Name": "from-file", "Workers": 1, "Queues": { "nq": 2 }, "PingInterval": "500ms" } }""");
        await using var node = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath,
            ["node", "--db", _dir.Db, "--run-dir", runDir, "--name", "from-flag", "--heartbeat-interval", "500ms"],
            [("GANTRY_NODE__NAME", "from-env"), ("GANTRY_NODE__WORKERS", "2")]);
        await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        Assert.Contains("\"from-flag\"", node.Stdout, StringComparison.Ordinal);                   // flag over env
        Assert.Contains("workers    2 (min 2, max 2), each nq:2", node.Stdout, StringComparison.Ordinal); // env over file; file over default

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "status", "--run-dir", runDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("\"from-flag\"", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "status", "--run-dir", runDir, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("from-flag", JsonDocument.Parse(stdout).RootElement.GetProperty("name").GetString());
        await StopAsync(node);
    }

    [Fact]
    public async Task ConfigShow_EachSettingWithItsSource_SecretsRedacted()
    {
        WriteConfig("""{ "worker": { "LeaseDuration": "40s", "PollInterval": "1s", "Capabilities": ["gpu", "big"], "Token": "file-secret" } }""");
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["config", "show", "worker", "--json", "--poll-interval", "3s"],
            ("GANTRY_WORKER__LEASEDURATION", "45s"), ("GANTRY_STORE", "postgres://gantry:pg-secret@db.internal:5432/jobs"));
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("secret", stdout, StringComparison.Ordinal);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("worker", root.GetProperty("command").GetString());
        Assert.Equal(_dir.File("gantry.json"), root.GetProperty("file").GetString());
        var settings = root.GetProperty("settings").EnumerateArray().ToDictionary(s => s.GetProperty("key").GetString()!);
        void Is(string key, string? value, string source, string? from)
        {
            var s = settings[key];
            Assert.Equal(value, s.TryGetProperty("value", out var v) ? v.GetString() : null);
            Assert.Equal(source, s.GetProperty("source").GetString());
            Assert.Equal(from, s.TryGetProperty("from", out var f) ? f.GetString() : null);
        }
        Is("DrainTimeout", "30s", "default", null);
        Is("Capabilities", "gpu,big", "file", "gantry.json: worker.Capabilities");
        Is("LeaseDuration", "45s", "env", "GANTRY_WORKER__LEASEDURATION");
        Is("PollInterval", "3s", "flag", "--poll-interval");
        Is("Store", "postgres://gantry:***@db.internal:5432/jobs", "env", "GANTRY_STORE");
        Is("Token", "(redacted)", "file", "gantry.json: worker.Token");

        (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["config", "show", "worker", "--poll-interval", "3s"]);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"(?m)^  PollInterval\s+3s\s+flag \(--poll-interval\)$", stdout);
        Assert.Matches(@"(?m)^  LeaseDuration\s+40s\s+file \(gantry\.json: worker\.LeaseDuration\)$", stdout);
        Assert.Matches(@"(?m)^  Token\s+\(redacted\)\s+file", stdout);
        Assert.DoesNotContain("file-secret", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigShow_EveryCommand_KeysAreTheFlagsInPascalCase()
    {
        foreach (var (command, keys) in new[]
        {
            ("run", new[] { "Store", "Queues", "LeaseDuration", "CancelGracePeriod", "RescuerInterval", "Retention", "Listen", "JobsDir", "Name" }),
            ("server", ["Store", "RescuerInterval", "DeadWorkerTimeout", "Listen", "AllowedHosts", "CorsOrigins"]),
            ("worker", ["Store", "Server", "Token", "Name", "Queues", "MetricsListen"]),
            ("node", ["Workers", "MinWorkers", "MaxWorkers", "WorkerCapacity", "Name", "AutoscaleTarget", "AutoscaleIdle", "AutoscaleInterval",
                "AutoscaleUpWindow", "AutoscaleDownWindow", "AutoscaleUpCooldown", "AutoscaleDownCooldown"]),
        })
        {
            var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "config", "show", command, "--json");
            Assert.True(code == 0, stderr);
            var found = JsonDocument.Parse(stdout).RootElement.GetProperty("settings").EnumerateArray().Select(s => s.GetProperty("key").GetString()).ToList();
            foreach (var key in keys) Assert.Contains(key, found);
        }
    }

    [Fact]
    public async Task UnknownKey_InFileOrEnvironment_OneLineNamingItsPlace()
    {
        WriteConfig("""{ "worker": { "Queus": { "default": 2 } } }""");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "run", "--db", _dir.Db);
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: gantry.json: worker.Queus: unknown setting (known: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));

        File.Delete(_dir.File("gantry.json"));
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["worker", "--db", _dir.Db], ("GANTRY_NODE__WORKRS", "2"));
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: GANTRY_NODE__WORKRS: unknown setting", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["run", "--db", _dir.Db], ("GANTRY_RUN__LEASEDURATION", "soon"));
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: GANTRY_RUN__LEASEDURATION: 'soon' is not a duration", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        WriteConfig("""{ "server": { "Retention": { "days": 2 } } }""");
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "server", "--db", _dir.Db);
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: gantry.json: server.Retention: expected a value, not an object or a list", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Autoscale_SettingsValidatedAtStart_FromFlagsAndEnvironment()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"),
            "--min-workers", "1", "--max-workers", "3", "--autoscale-target", "60%", "--autoscale-idle", "0.7");
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: --autoscale-idle: must be at least 0 and below --autoscale-target (0.6)", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["node", "--db", _dir.Db, "--run-dir", _dir.File("run")],
            ("GANTRY_NODE__AUTOSCALETARGET", "150%"));
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: GANTRY_NODE__AUTOSCALETARGET: '150%' is not a fraction from 0 to 1", stderr, StringComparison.Ordinal);

        WriteConfig("""{ "node": { "AutoscaleInterval": "1s", "AutoscaleUpWindow": "500ms" } }""");
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"));
        Assert.Equal(1, code);
        Assert.StartsWith("gantry: gantry.json: node.AutoscaleUpWindow: must be at least --autoscale-interval", stderr, StringComparison.Ordinal);
    }
}
