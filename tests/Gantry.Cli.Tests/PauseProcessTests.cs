using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>
/// `gantry workers pause` against an HTTP worker or a node over --server whose fetch is already waiting on the
/// server: a job submitted after the pause is not run until resumed, and the registry says `paused`.
/// (Both used to run jobs submitted 1–5 s after the pause, and to show `running`.)
/// </summary>
[RunsLong(17)]
public sealed partial class PauseProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Gantry(params string[] args) => GantryProcess.RunAsync(_dir.Path, null, args);

    [Theory]
    [InlineData("worker")]
    [InlineData("node")]
    public async Task Pause_WhileTheFetchWaitsOnTheServer_JobSubmittedAfterWaitsUntilResume(string kind)
    {
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var url = server.ApiUrl;
        await using var worker = kind == "worker"
            ? GantryProcess.Start(_dir.Path, "worker", "--server", url, "--queues", "default:4")
            : GantryProcess.Start(_dir.Path, "node", "--server", url, "--run-dir", _dir.File("run"), "--workers", "1", "--queues", "default:4");
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = Assert.Single(await WorkersAsync()).GetProperty("id").GetString()!;
        await Task.Delay(1000); // its fetch is parked on the server now

        var paused = await Gantry("workers", "pause", id, "--server", url);
        Assert.True(paused.ExitCode == 0, paused.Stderr);
        await Task.Delay(1000);
        var job = (await Gantry("submit", "echo", "--server", url)).Stdout.Trim();

        await Task.Delay(4000);
        Assert.Equal("queued", await StateAsync(job));
        Assert.Equal("paused", Assert.Single(await WorkersAsync()).GetProperty("state").GetString());

        var resumed = await Gantry("workers", "resume", id, "--server", url);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var deadline = DateTime.UtcNow + Generous;
        while (await StateAsync(job) != "succeeded")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the job did not run after resume\n{worker.Output}");
            await Task.Delay(200);
        }
        Assert.Equal("running", Assert.Single(await WorkersAsync()).GetProperty("state").GetString());

        async Task<JsonElement[]> WorkersAsync()
        {
            var (code, stdout, stderr) = await Gantry("workers", "--json", "--server", url);
            Assert.True(code == 0, stderr);
            return JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
        }

        async Task<string> StateAsync(string jobId) =>
            JsonDocument.Parse((await Gantry("jobs", "show", jobId, "--json", "--server", url)).Stdout).RootElement.GetProperty("state").GetString()!;
    }
}
