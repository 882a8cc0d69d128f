namespace Gantry.Cli.Tests;

/// <summary>
/// Spans beyond what the program can use, from a flag or gantry.json: an interval or timeout longer than a timer waits
/// (about 24.8 days), a keep longer than 100 years, a number of seconds a TimeSpan cannot hold, a folder that cannot be
/// made. Each is one line naming it at start, never a service failing later or an internal error.
/// </summary>
public sealed class SpanBoundsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Gantry(params string[] args) => GantryProcess.RunAsync(_dir.Path, null, args);

    /// <summary>A process command on the test's store (run and server without the API).</summary>
    private string[] Process(string command, params string[] args) =>
        command is "run" or "server" ? [command, .. args, "--db", _dir.Db, "--listen", "off"] : [command, .. args, "--db", _dir.Db];

    /// <summary>The command line is refused at start: exit 1, <paramref name="error"/> as the one line, nothing printed.</summary>
    private async Task RefusedAsync(string error, params string[] args)
    {
        var (code, stdout, stderr) = await Gantry(args);
        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.Equal($"gantry: {error}", stderr.Trim());
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("run", "--drain-timeout=30d", "--drain-timeout: must be at most 24 days, got 30 days")]
    [InlineData("run", "--cancel-grace-period=2147483648", "--cancel-grace-period: must be at most 24 days, got 24855.135 days")]
    [InlineData("run", "--rescuer-interval=25d", "--rescuer-interval: must be at most 24 days, got 25 days")]
    [InlineData("server", "--retention=40000d", "--retention: must be between 0 and 100 years (36500 days), got 40000 days")]
    [InlineData("worker", "--poll-interval=60d", "--poll-interval: must be at most 24 days, got 60 days")]
    [InlineData("worker", "--lease-duration=25h", "--lease-duration: must be between 1 and 86400 seconds, got 90000")]
    [InlineData("node", "--lease-duration=2d", "--lease-duration: must be between 1 and 86400 seconds, got 172800")]
    [InlineData("node", "--restart-window=30d", "--restart-window: must be at most 24 days, got 30 days")]
    public Task Flag_LongerThanItCanBeUsed_OneLineAtStart(string command, string flag, string error) => RefusedAsync(error, Process(command, flag));

    [Theory]
    [InlineData("run", "DrainTimeout", "30d", "gantry.json: run.DrainTimeout: must be at most 24 days, got 30 days")]
    [InlineData("worker", "LeaseDuration", "2d", "gantry.json: worker.LeaseDuration: must be between 1 and 86400 seconds, got 172800")]
    [InlineData("server", "Retention", "40000d", "gantry.json: server.Retention: must be between 0 and 100 years (36500 days), got 40000 days")]
    public async Task GantryJson_SettingLongerThanItCanBeUsed_NamesTheKey(string command, string key, string value, string error)
    {
        File.WriteAllText(_dir.File("gantry.json"), $$"""{ "{{command}}": { "{{key}}": "{{value}}" } }""");
        await RefusedAsync(error, Process(command));
    }

    [Theory]
    [InlineData("""{ "handlers": { "x": { "command": ["true"], "timeout_seconds": 1e300 } } }""", "handlers.x.timeout_seconds: expected a positive number of seconds, at most 2073600 (24 days)")]
    [InlineData("""{ "process_defaults": { "timeout_seconds": 1e13 } }""", "process_defaults.timeout_seconds: expected a positive number of seconds, at most 2073600 (24 days)")]
    [InlineData("""{ "alerts": { "queue_stalled_after_seconds": 1e300 } }""", "alerts.queue_stalled_after_seconds: expected a positive number of seconds, at most 2073600 (24 days)")]
    [InlineData("""{ "handlers": { "x": { "command": ["true"], "limits": { "memory_mb": 1e12 } } } }""", "handlers.x.limits.memory_mb: expected a positive whole number up to 2147483647")]
    [InlineData("""{ "handlers": { "x": { "command": ["true"], "limits": { "processes": 2.5 } } } }""", "handlers.x.limits.processes: expected a positive whole number up to 2147483647")]
    [InlineData("""{ "handlers": { "x": { "command": ["true"], "limits": { "cpu": 1e300 } } } }""", "handlers.x.limits.cpu: expected a positive number up to 1000000")]
    [InlineData("""{ "retention": { "q": { "dead_seconds": 1e12 } } }""", "retention.q.dead_seconds: expected a number of seconds (0 to 100 years)")]
    public async Task GantryJson_NumberBeyondItsRange_OneLineNamingTheKey(string config, string error)
    {
        File.WriteAllText(_dir.File("gantry.json"), config);
        await RefusedAsync($"gantry.json: {error}", Process("server"));
    }

    [Fact]
    public async Task GantryJson_LimitGivenAsAnyJsonWholeNumber_IsThatNumber()
    {
        File.WriteAllText(_dir.File("gantry.json"), """{ "handlers": { "x": { "command": ["true"], "limits": { "memory_mb": 5.12e2 } } } }""");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, """{"type":"x","payload":{},"limits":{"memory_mb":600}}""", "submit", "-f", "-", "--db", _dir.Db);
        Assert.Equal(1, code);
        Assert.Contains("memory_mb 512", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, """{"type":"x","payload":{},"limits":{"memory_mb":512}}""", "submit", "-f", "-", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task JobsDir_ThatCannotBeMade_OneLineAtStart()
    {
        var tooLong = new string('x', 300);
        var (code, stdout, stderr) = await Gantry("server", "--jobs-dir", tooLong, "--db", _dir.Db, "--listen", "off");
        Assert.True(code == 1, $"exit {code}: {stderr}");
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("gantry: --jobs-dir: cannot make the folder: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);

        File.WriteAllText(_dir.File("taken"), "");
        (code, _, stderr) = await Gantry("server", "--jobs-dir", _dir.Path, "--results-dir", Path.Combine(_dir.File("taken"), "results"), "--db", _dir.Db, "--listen", "off");
        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.StartsWith("gantry: --results-dir: cannot make the folder: ", stderr.Trim(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("node", "--run-dir", "", "--run-dir: needs a path")]
    [InlineData("node", "--worker-binary", "", "--worker-binary: needs a path")]
    [InlineData("node status", "--run-dir", " ", "--run-dir: needs a path")]
    public Task PathFlag_Empty_OneLineNamingIt(string command, string flag, string value, string error) =>
        RefusedAsync(error, command == "node" ? Process(command, flag, value) : [.. command.Split(' '), flag, value]);

    [Fact]
    public async Task Submit_DelayBeyond100Years_OneLineNamingIt_NothingEnqueued()
    {
        await RefusedAsync("--delay: must be between 0 and 100 years (36500 days), got 3000000 days", "submit", "echo", "{}", "--delay", "3000000d", "--db", _dir.Db);
        Assert.False(File.Exists(_dir.Db), "a refused submit creates nothing");
    }

    [Fact]
    public async Task Duration_LongerThanATimeSpanHolds_SaysSo()
    {
        var (code, stdout, stderr) = await Gantry("submit", "echo", "{}", "--timeout", "99999999999d", "--db", _dir.Db);
        Assert.Equal(2, code);
        Assert.StartsWith("gantry: --timeout: '99999999999d' is longer than any duration can be", stderr.Trim(), StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task QueueRetention_LongerThan100Years_RefusedNamingTheFlag_NothingSet()
    {
        var (code, _, stderr) = await Gantry("queues", "retention", "mail", "--dead", "40000d", "--db", _dir.Db);
        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.Equal("gantry: --dead: must be between 0 and 100 years (36500 days), got 40000 days", stderr.Trim());
        var (listed, shown, _) = await Gantry("queues", "retention", "--db", _dir.Db);
        Assert.Equal(0, listed);
        Assert.Contains("every queue keeps the default retention", shown, StringComparison.Ordinal);
    }
}
