using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>`gantry cron` and `gantry queues retention` on a store and through --server, their bad inputs, and gantry.json's
/// schedules reconciled and limits set when a server starts.</summary>
[RunsLong(12)]
public sealed class CronCliTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(int Code, string Stdout, string Stderr)> GantryAsync(params string[] args) => await GantryProcess.RunAsync(_dir.Path, null, args);

    private async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await GantryAsync(args);
        Assert.True(code == 0, $"gantry {string.Join(' ', args)} failed ({code}): {stderr}{stdout}");
        return stdout;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    /// <summary>Every cron subcommand against <paramref name="where"/> (--db or --server), checked through its own output.</summary>
    private async Task EveryCommandAsync(params string[] where)
    {
        string[] With(params string[] args) => [.. args, .. where];
        Assert.Contains("schedule nightly created; next fire 20", await OkAsync(With("cron", "add", "nightly", "0 3 * * *", "echo", """{"a":1}""", "--tz", "Europe/Berlin",
            "--queue", "reports", "--priority", "3", "--missed", "all", "--max-catchup", "5", "--timeout", "90s", "--max-attempts", "2", "--tags", "team=ops")), StringComparison.Ordinal);
        Assert.Contains("updated", await OkAsync(With("cron", "add", "nightly", "0 3 * * *", "echo", """{"a":1}""", "--tz", "Europe/Berlin",
            "--queue", "reports", "--priority", "3", "--missed", "all", "--max-catchup", "6", "--timeout", "90s", "--max-attempts", "2", "--tags", "team=ops")), StringComparison.Ordinal);

        var list = Json(await OkAsync(With("cron", "list", "--json")));
        var s = Assert.Single(list.EnumerateArray());
        Assert.Equal("nightly", s.GetProperty("name").GetString());
        Assert.Equal("Europe/Berlin", s.GetProperty("tz").GetString());
        Assert.Equal("reports", s.GetProperty("queue").GetString());
        Assert.Equal(3, s.GetProperty("priority").GetInt32());
        Assert.Equal("all", s.GetProperty("missed").GetString());
        Assert.Equal(6, s.GetProperty("max_catchup").GetInt32());
        Assert.Equal(90, s.GetProperty("timeout_seconds").GetDouble());
        Assert.Equal(2, s.GetProperty("max_attempts").GetInt32());
        Assert.Equal("ops", s.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal(3, s.GetProperty("next_fire_times").GetArrayLength());
        Assert.Equal("manual", s.GetProperty("origin").GetString());

        var text = await OkAsync(With("cron", "list"));
        Assert.Contains("03:00:00 +01:00", text, StringComparison.Ordinal); // next fires in the schedule's zone (winter time)
        Assert.Contains("nightly", await OkAsync(With("cron", "show", "nightly")), StringComparison.Ordinal);

        Assert.Equal("schedule nightly paused", (await OkAsync(With("cron", "pause", "nightly"))).Trim());
        Assert.True(Json(await OkAsync(With("cron", "show", "nightly", "--json"))).GetProperty("paused").GetBoolean());
        var jobId = (await OkAsync(With("cron", "trigger", "nightly"))).Trim();
        var job = Json(await OkAsync("jobs", "show", jobId, "--json", "--db", _dir.Db));
        Assert.Equal("nightly", job.GetProperty("tags").GetProperty("schedule").GetString());
        Assert.True(job.GetProperty("tags").TryGetProperty("fire_time", out _));
        Assert.Equal("reports", job.GetProperty("queue").GetString());
        Assert.Equal(jobId, Json(await OkAsync(With("cron", "show", "nightly", "--json"))).GetProperty("last_job_id").GetString());
        Assert.Equal("schedule nightly resumed", (await OkAsync(With("cron", "resume", "nightly"))).Trim());
        Assert.Equal("schedule nightly removed", (await OkAsync(With("cron", "remove", "nightly"))).Trim());
        Assert.Equal("no schedules", (await OkAsync(With("cron", "list"))).Trim());

        var (code, _, stderr) = await GantryAsync(With("cron", "show", "nightly"));
        Assert.Equal(1, code);
        Assert.Equal("gantry: no schedule named nightly", stderr.Trim());
    }

    [Fact]
    public async Task Cron_EveryCommand_OnTheStore() => await EveryCommandAsync("--db", _dir.Db);

    [Fact]
    public async Task Cron_EveryCommand_ThroughServer()
    {
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var api = System.Text.RegularExpressions.Regex.Match(server.Stdout, @"api\s+(http://\S+)").Groups[1].Value;
        await EveryCommandAsync("--server", api);
    }

    [Theory]
    [InlineData("61 * * * *", "noop", new string[0], "gantry: cron: '61 * * * *' is not a valid cron expression")]
    [InlineData("* * * *", "noop", new string[0], "gantry: cron: '* * * *' has 4 fields")]
    [InlineData("0 3 * * *", "noop", new[] { "--tz", "Mars/Base" }, "gantry: --tz: unknown time zone 'Mars/Base'")]
    [InlineData("0 3 * * *", "nosuch", new string[0], "gantry: type: unknown job type 'nosuch'")]
    [InlineData("0 3 * * *", "noop", new[] { "--missed", "sometimes" }, "gantry: --missed: must be skip, once or all, got 'sometimes'")]
    [InlineData("0 3 * * *", "noop", new[] { "--tags", "schedule=x" }, "gantry: --tags: 'schedule' is set by the schedule")]
    // The job's rules are the job document's, which names its fields; on the command line the error names the flag.
    [InlineData("0 3 * * *", "noop", new[] { "--queue", "a b" }, "gantry: --queue: 'a b' is not a valid name")]
    [InlineData("0 3 * * *", "noop", new[] { "--timeout", "0s" }, "gantry: --timeout: must be a positive number of seconds")]
    public async Task CronAdd_BadInput_OneLineNothingStored(string cron, string type, string[] flags, string error)
    {
        await OkAsync("cron", "add", "ok", "@daily", "noop", "--db", _dir.Db);
        var (code, stdout, stderr) = await GantryAsync(["cron", "add", "n", cron, type, .. flags, "--db", _dir.Db]);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.StartsWith(error, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal(["ok"], Json(await OkAsync("cron", "list", "--json", "--db", _dir.Db)).EnumerateArray().Select(s => s.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("--max-attempts", "5000", "gantry: --max-attempts: '5000' is out of range; it must be from 1 to 1000")]
    [InlineData("--priority", "99999999999", "gantry: --priority: '99999999999' is out of range; it must be at most 2147483647")]
    public async Task CronAdd_NumberBeyondTheJobsRange_RefusedByTheParserNamingTheFlag(string flag, string value, string error)
    {
        var (code, stdout, stderr) = await GantryAsync("cron", "add", "n", "@daily", "noop", flag, value, "--db", _dir.Db);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.StartsWith(error, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task CronAdd_NegativeMaxCatchup_RefusedByTheParser()
    {
        var (code, _, stderr) = await GantryAsync("cron", "add", "n", "@daily", "noop", "--max-catchup", "-1", "--db", _dir.Db);
        Assert.Equal(2, code);
        Assert.Contains("--max-catchup", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GantryJson_Schedules_CreatedUpdatedAndRemovedIfTheFileMadeThem()
    {
        File.WriteAllText(_dir.File("gantry.json"), """
            { "schedules": {
                "report": { "cron": "0 3 * * *", "type": "echo", "payload": {"x": 1}, "tz": "Europe/Berlin" },
                "cleanup": { "cron": "@hourly", "type": "noop", "missed": "once" } } }
            """);
        await OkAsync("cron", "add", "manual", "@daily", "noop", "--db", _dir.Db);
        await StartAndStopServerAsync();
        var first = Json(await OkAsync("cron", "list", "--json", "--db", _dir.Db)).EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["cleanup", "manual", "report"], first.Keys.Order());
        Assert.Equal("file", first["report"].GetProperty("origin").GetString());
        Assert.Equal("once", first["cleanup"].GetProperty("missed").GetString());

        File.WriteAllText(_dir.File("gantry.json"), """
            { "schedules": { "report": { "cron": "0 4 * * *", "type": "echo", "tz": "Europe/Berlin" } } }
            """);
        await StartAndStopServerAsync();
        var second = Json(await OkAsync("cron", "list", "--json", "--db", _dir.Db)).EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["manual", "report"], second.Keys.Order());
        Assert.Equal("0 4 * * *", second["report"].GetProperty("cron").GetString());
    }

    [Fact]
    public async Task GantryJson_BadSchedule_OneLineNamingIt()
    {
        File.WriteAllText(_dir.File("gantry.json"), """{ "schedules": { "report": { "cron": "0 3 * * *", "type": "echo", "tz": "Nowhere/Land" } } }""");
        var (code, _, stderr) = await GantryAsync("server", "--db", _dir.Db, "--listen", "off");
        Assert.Equal(1, code);
        Assert.Equal("gantry: gantry.json: schedules.report.tz: unknown time zone 'Nowhere/Land' (an IANA name such as Europe/Berlin, America/New_York or UTC)", stderr.Trim());
    }

    [Fact]
    public async Task QueuesRetention_SetShowReset_AndBadDuration()
    {
        Assert.Contains("queue emails keeps succeeded jobs 1d, dead jobs 30d", await OkAsync("queues", "retention", "emails", "--succeeded", "1d", "--dead", "30d", "--db", _dir.Db), StringComparison.Ordinal);
        var shown = Json(await OkAsync("queues", "retention", "--json", "--db", _dir.Db));
        var emails = Assert.Single(shown.EnumerateArray());
        Assert.Equal(86400, emails.GetProperty("succeeded_seconds").GetDouble());
        Assert.Contains("default", await OkAsync("queues", "retention", "emails", "--db", _dir.Db), StringComparison.Ordinal);
        await OkAsync("queues", "retention", "emails", "--default", "--db", _dir.Db);
        Assert.Equal("every queue keeps the default retention", (await OkAsync("queues", "retention", "--db", _dir.Db)).Trim());

        var (code, _, stderr) = await GantryAsync("queues", "retention", "emails", "--dead", "soon", "--db", _dir.Db);
        Assert.Equal(2, code);
        Assert.Contains("--dead: 'soon' is not a duration", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GantryJson_Limits_SetWhenAServerStarts_OnAQueueWithoutJobsToo()
    {
        File.WriteAllText(_dir.File("gantry.json"), """
            { "limits": { "mail": { "concurrency": 20, "per_key": 2, "rate": "600/m", "rate_per_key": "30/m" } } }
            """);
        await StartAndStopServerAsync();

        // The queue is known by its limits: they can be changed without a job ever submitted to it.
        Assert.Contains("queue mail: concurrency 5, per key 2, rate 600/m, rate per key 30/m", await OkAsync("queues", "limit", "mail", "--concurrency", "5", "--db", _dir.Db), StringComparison.Ordinal);
        Assert.Contains("queue mail: concurrency 5, per key 2, rate 600/m, rate per key 2/s", await OkAsync("queues", "limit", "mail", "--rate-per-key", "2/s", "--db", _dir.Db), StringComparison.Ordinal);
        var (code, _, stderr) = await GantryAsync("queues", "limit", "mail", "--rate-per-key", "5/d", "--db", _dir.Db);
        Assert.Equal(2, code);
        Assert.Equal("gantry: --rate-per-key: '5/d' is not a rate (write a count per second, minute or hour: 100/s, 600/m, 1000/h) (usage: gantry queues limit --help)",
            stderr.Trim());
        await OkAsync("submit", "noop", "{}", "--queue", "mail", "--db", _dir.Db);
        var queues = JsonDocument.Parse(await OkAsync("queues", "--json", "--db", _dir.Db)).RootElement;
        var mail = queues.EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "mail").GetProperty("limits");
        Assert.Equal((5, 2, "600/m", "2/s"), (mail.GetProperty("concurrency").GetInt32(), mail.GetProperty("per_key").GetInt32(), mail.GetProperty("rate").GetString(),
            mail.GetProperty("rate_per_key").GetString()));
        Assert.Contains("rate per key 2/s", await OkAsync("queues", "--db", _dir.Db), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "limits": { "mail": { "concurrency": 0 } } }""", "gantry.json: limits.mail.concurrency: must be between 1 and 1,000,000, got 0")]
    [InlineData("""{ "limits": { "mail": { "rate": "5/d" } } }""", "gantry.json: limits.mail.rate: '5/d' is not a rate (write a count per second, minute or hour: 100/s, 600/m, 1000/h)")]
    [InlineData("""{ "limits": { "mail": { "burst": 3 } } }""", "gantry.json: limits.mail: unknown field 'burst' (known fields: concurrency, per_key, rate, rate_per_key)")]
    [InlineData("""{ "limits": { "mail": { "rate_per_key": "0/s" } } }""", "gantry.json: limits.mail.rate_per_key: must allow at least 1 start, got '0/s'")]
    [InlineData("""{ "limits": { "mail": {} } }""", "gantry.json: limits.mail: name at least one limit (concurrency, per_key, rate, rate_per_key), or clear them")]
    [InlineData("""{ "limits": { "mail": { "rate": "\ud800/s" } } }""", "gantry.json: limits.mail.rate: holds a lone UTF-16 surrogate escape (such as \\ud800), which is not Unicode text")]
    [InlineData("""{ "limits": { "mail": { "per_key": 2, "per_key": 3 } } }""", "gantry.json: malformed JSON: Duplicate property 'per_key' encountered during deserialization")]
    [InlineData("""{ "limits": { "mail": { "per_key": 2 } }, "limits": {} }""", "gantry.json: malformed JSON: Duplicate property 'limits' encountered during deserialization")]
    public async Task GantryJson_BadLimits_OneLineNamingTheKey(string config, string error)
    {
        File.WriteAllText(_dir.File("gantry.json"), config);
        var (code, _, stderr) = await GantryAsync("server", "--db", _dir.Db, "--listen", "off");
        Assert.Equal(1, code);
        Assert.Equal($"gantry: {error}", stderr.Trim());
    }

    private async Task StartAndStopServerAsync()
    {
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "off");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        server.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await server.WaitForExitAsync(Generous));
    }
}
