using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>`submit`, `jobs`, `queues` and `workers` with `--server URL --token T` behave as they do on a store.</summary>
public sealed partial class ServerCliTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private static readonly (string, string)[] Tokens = [("GANTRY_TOKENS", "admin:cli-admin-token,submit:cli-submit-token,read:cli-read-token,worker:cli-worker-token")];
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(GantryProcess Process, string Url)> StartAsync(params string[] args)
    {
        var process = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, [.. args, "--db", _dir.Db, "--listen", "127.0.0.1:0"], Tokens);
        await process.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        return (process, process.ApiUrl);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Gantry(params string[] args) => GantryProcess.RunAsync(_dir.Path, null, args);

    [Fact]
    public async Task ControlCommands_OverServer_WorkAsOnTheStore()
    {
        var (run, url) = await StartAsync("run");
        await using var runProcess = run;

        var submitted = await Gantry("submit", "echo", """{"via":"server"}""", "--wait", "--server", url, "--token", "cli-submit-token");
        Assert.True(submitted.ExitCode == 0, submitted.Stderr + submitted.Stdout + run.Output);
        Assert.Contains("succeeded on attempt 1: {\"via\":\"server\"}", submitted.Stdout, StringComparison.Ordinal);
        var id = submitted.Stdout.Split('\n')[0].Trim();

        var show = await Gantry("jobs", "show", id, "--server", url, "--token", "cli-read-token");
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.Contains("succeeded", show.Stdout, StringComparison.Ordinal);
        Assert.Contains(id, show.Stdout, StringComparison.Ordinal);

        var list = await Gantry("jobs", "list", "--json", "--state", "succeeded", "--server", url, "--token", "cli-read-token");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Equal(id, JsonDocument.Parse(list.Stdout).RootElement[0].GetProperty("id").GetString());

        // A batch from a file, with an idempotency key that makes the second submission an existing job.
        var file = Path.Combine(_dir.Path, "batch.jsonl");
        await File.WriteAllTextAsync(file, """
            {"type":"noop","queue":"remote","idempotency_key":"k-1"}
            {"type":"noop","queue":"remote","priority":5,"tags":{"team":"a"}}
            """);
        var batch = await Gantry("submit", "--file", file, "--json", "--server", url, "--token", "cli-submit-token");
        Assert.True(batch.ExitCode == 0, batch.Stderr);
        Assert.Equal(2, JsonDocument.Parse(batch.Stdout).RootElement.GetArrayLength());
        var again = await Gantry("submit", "noop", "--queue", "remote", "--idempotency-key", "k-1", "--server", url, "--token", "cli-submit-token");
        Assert.Contains("existing job", again.Stdout, StringComparison.Ordinal);

        var queues = await Gantry("queues", "--json", "--server", url, "--token", "cli-read-token");
        Assert.True(queues.ExitCode == 0, queues.Stderr);
        var byName = JsonDocument.Parse(queues.Stdout).RootElement.EnumerateArray().ToDictionary(q => q.GetProperty("queue").GetString()!);
        Assert.True(byName["default"].GetProperty("completed_per_minute").GetInt64() >= 1, queues.Stdout);

        var workers = await Gantry("workers", "--json", "--server", url, "--token", "cli-read-token");
        Assert.True(workers.ExitCode == 0, workers.Stderr);
        var worker = JsonDocument.Parse(workers.Stdout).RootElement[0];
        Assert.Equal("running", worker.GetProperty("state").GetString());
        Assert.True(worker.TryGetProperty("running_job_ids", out _));

        var logs = await Gantry("jobs", "logs", id, "--server", url, "--token", "cli-read-token");
        Assert.True(logs.ExitCode == 0, logs.Stderr);

        var paused = await Gantry("queues", "pause", "remote", "--server", url, "--token", "cli-admin-token");
        Assert.True(paused.ExitCode == 0, paused.Stderr);
        var table = await Gantry("queues", "--server", url, "--token", "cli-read-token");
        Assert.Contains("remote (paused)", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workflows_OverServer_SubmittedWaitedShownListedAndCancelled()
    {
        var (run, url) = await StartAsync("run");
        await using var runProcess = run;
        var flow = Path.Combine(_dir.Path, "flow.json");
        await File.WriteAllTextAsync(flow, """
            {"name":"remote-diamond","steps":{
              "fetch":{"type":"echo","payload":{"rows":3}},
              "left":{"type":"echo","depends_on":["fetch"]},
              "right":{"type":"echo","depends_on":["fetch"]},
              "merge":{"type":"echo","depends_on":["left","right"]}}}
            """);
        var submitted = await Gantry("submit", "--workflow", flow, "--wait", "--server", url, "--token", "cli-submit-token");
        Assert.True(submitted.ExitCode == 0, submitted.Stderr + submitted.Stdout + run.Output);
        var id = submitted.Stdout.Split('\n')[0].Trim();
        Assert.Contains("succeeded", submitted.Stdout, StringComparison.Ordinal);

        var show = await Gantry("workflows", "show", id, "--json", "--server", url, "--token", "cli-read-token");
        Assert.True(show.ExitCode == 0, show.Stderr);
        var view = JsonDocument.Parse(show.Stdout).RootElement;
        Assert.Equal("succeeded", view.GetProperty("state").GetString());
        Assert.Equal(4, view.GetProperty("steps").GetArrayLength());

        var list = await Gantry("workflows", "list", "--server", url, "--token", "cli-read-token");
        Assert.Contains("remote-diamond", list.Stdout, StringComparison.Ordinal);

        // One that waits on a step no worker serves: cancelled over the server.
        await File.WriteAllTextAsync(flow, """{"name":"stuck","steps":{"a":{"type":"nobody-serves-this"},"b":{"type":"echo","depends_on":["a"]}}}""");
        var unknown = await Gantry("submit", "--workflow", flow, "--server", url, "--token", "cli-submit-token");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown job type 'nobody-serves-this'", unknown.Stderr, StringComparison.Ordinal);
        var stuck = await Gantry("submit", "--workflow", flow, "--allow-unknown-type", "--server", url, "--token", "cli-submit-token");
        Assert.True(stuck.ExitCode == 0, stuck.Stderr);
        var cancel = await Gantry("workflows", "cancel", stuck.Stdout.Trim(), "--server", url, "--token", "cli-submit-token");
        Assert.True(cancel.ExitCode == 0, cancel.Stderr);
        Assert.Contains("2 steps cancelled", cancel.Stdout, StringComparison.Ordinal);

        var missing = await Gantry("workflows", "show", Guid.NewGuid().ToString(), "--server", url, "--token", "cli-read-token");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no workflow with id", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlCommands_OverServer_ErrorsAreOneClearLine()
    {
        var (server, url) = await StartAsync("server");
        await using var serverProcess = server;

        var noToken = await Gantry("jobs", "list", "--server", url);
        Assert.Equal(1, noToken.ExitCode);
        Assert.Contains("wants a token", noToken.Stderr, StringComparison.Ordinal);

        var wrongScope = await Gantry("submit", "noop", "--server", url, "--token", "cli-read-token");
        Assert.Equal(1, wrongScope.ExitCode);
        Assert.Contains("refused the token", wrongScope.Stderr, StringComparison.Ordinal);

        var unknownId = await Gantry("jobs", "show", Guid.NewGuid().ToString(), "--server", url, "--token", "cli-read-token");
        Assert.Equal(1, unknownId.ExitCode);
        Assert.Contains("no job with id", unknownId.Stderr, StringComparison.Ordinal);

        var unknownType = await Gantry("submit", "no-such-type", "--server", url, "--token", "cli-submit-token");
        Assert.Equal(1, unknownType.ExitCode);
        Assert.Contains("unknown job type 'no-such-type'", unknownType.Stderr, StringComparison.Ordinal);
        var allowed = await Gantry("submit", "no-such-type", "--allow-unknown-type", "--server", url, "--token", "cli-submit-token");
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);

        var both = await Gantry("jobs", "list", "--server", url, "--db", _dir.Db);
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("not both", both.Stderr, StringComparison.Ordinal);

        var unreachable = await Gantry("queues", "--server", "http://127.0.0.1:1", "--token", "x");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("cannot reach the Gantry server at http://127.0.0.1:1", unreachable.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", unreachable.Stderr, StringComparison.Ordinal);

        var badUrl = await Gantry("queues", "--server", "ftp://x");
        Assert.Equal(2, badUrl.ExitCode);
        Assert.Contains("is not an http(s) URL", badUrl.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkersShutdown_OverServer_WorkerGivesBackItsJobAndExits()
    {
        var (server, url) = await StartAsync("server");
        await using var serverProcess = server;
        await using var worker = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["worker", "--server", url, "--token", "cli-worker-token"], []);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var submitted = await Gantry("submit", "sleep", """{"ms":60000}""", "--server", url, "--token", "cli-submit-token");
        var id = submitted.Stdout.Trim();
        string workerId = "";
        var deadline = DateTime.UtcNow + Generous;
        while (DateTime.UtcNow < deadline && workerId.Length == 0)
        {
            var list = await Gantry("workers", "--json", "--server", url, "--token", "cli-read-token");
            foreach (var w in JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray())
                if (w.GetProperty("running_job_ids").EnumerateArray().Any(j => j.GetString() == id)) workerId = w.GetProperty("id").GetString()!;
            if (workerId.Length == 0) await Task.Delay(200);
        }
        Assert.True(workerId.Length > 0, "the job never showed as running on the worker\n" + worker.Output);

        var shutdown = await Gantry("workers", "shutdown", workerId, "--server", url, "--token", "cli-admin-token");
        Assert.True(shutdown.ExitCode == 0, shutdown.Stderr);
        Assert.Equal(0, await worker.WaitForExitAsync(Generous));

        var job = await Gantry("jobs", "show", id, "--json", "--server", url, "--token", "cli-read-token");
        var root = JsonDocument.Parse(job.Stdout).RootElement;
        Assert.Equal("queued", root.GetProperty("state").GetString());
        Assert.Equal(0, root.GetProperty("attempt").GetInt32()); // given back without using an attempt
    }
}
