using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Tests;

/// <summary>
/// `gantry-worker` leaves OpenTelemetry's exporter out: a telemetry export it is given is refused at start in one line, and
/// a node whose configuration exports telemetry starts its workers with `gantry` even when `gantry-worker` sits beside it.
/// </summary>
[RunsLong(12)]
public sealed class SlimWorkerTelemetryProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private const string Refusal = "exporting telemetry over OTLP needs OpenTelemetry's exporter, which gantry-worker leaves out to stay small: use `gantry worker` for it";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string WorkerDll => GantryProcess.Built("Gantry.Cli.Worker", "gantry-worker.dll");

    /// <summary>A gantry.json that exports to a port nobody listens on (the export fails quietly; the processes run on).</summary>
    private string TelemetryConfig()
    {
        var path = _dir.File("gantry.json");
        File.WriteAllText(path, """{ "telemetry": { "otlp_endpoint": "http://127.0.0.1:9", "otlp_protocol": "http/protobuf" } }""");
        return path;
    }

    [Theory]
    [InlineData(false, "gantry: gantry.json: telemetry: " + Refusal)]
    [InlineData(true, "gantry: OTEL_EXPORTER_OTLP_ENDPOINT: " + Refusal)]
    public async Task SlimWorker_TelemetryExport_RefusedInOneLineNamingTheSetting_NothingStarted(bool fromEnvironment, string expected)
    {
        string[] args = fromEnvironment ? ["--db", _dir.Db] : ["--db", _dir.Db, "--config", TelemetryConfig()];
        (string, string)[] env = fromEnvironment ? [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")] : [];
        await using var worker = GantryProcess.StartDll(_dir.Path, WorkerDll, args, env);

        Assert.Equal(1, await worker.WaitForExitAsync(Generous));
        Assert.Equal(expected, worker.Stderr.Trim());
        Assert.DoesNotContain("running", worker.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Db), "the store was opened");
    }

    [Fact]
    public async Task Node_TelemetryConfigured_ForcedSlimWorker_RefusedInOneLine()
    {
        var apphost = GantryProcess.Built("Gantry.Cli.Worker", "gantry-worker");
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null,
            "node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--config", TelemetryConfig(), "--worker-binary", apphost);

        Assert.Equal(1, code);
        Assert.Equal($"gantry: --worker-binary: {apphost} cannot export the telemetry this configuration sets up (it leaves OpenTelemetry's exporter out): use gantry, or leave --worker-binary out",
            stderr.Trim());
    }

    /// <summary>
    /// Both executables in one folder, as build-aot.sh lays them out: the node runs `gantry-worker` beside it, unless the
    /// configuration exports telemetry, which only `gantry` can do.
    /// </summary>
    [Theory]
    [InlineData(false, "gantry-worker")]
    [InlineData(true, "gantry")]
    public async Task Node_BesideTheSlimWorker_SpawnsItUnlessTelemetryIsExported(bool telemetry, string expected)
    {
        var bin = SideBySide();
        var runDir = _dir.File("run");
        string[] args = ["node", "--db", _dir.Db, "--run-dir", runDir, "--workers", "1", "--poll-interval", "50ms", .. telemetry ? new[] { "--config", TelemetryConfig() } : []];
        await using var node = GantryProcess.StartDll(_dir.Path, Path.Combine(bin, "gantry"), args, []);
        await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var job = new NewJob { Id = JobIds.New(), Type = "noop" };
        await StoreProbe.WithStoreAsync(_dir.Db, s => s.JobEnqueueManyAsync(new JobEnqueueParams([job]), CancellationToken.None));
        await StoreProbe.WaitForAsync(_dir.Db, job.Id, j => j.State == JobState.Succeeded, Generous, "succeeded");

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "node", "status", "--run-dir", runDir, "--json");
        Assert.True(code == 0, stderr);
        var pid = JsonDocument.Parse(stdout).RootElement.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        var commandLine = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
        Assert.Equal(Path.Combine(bin, expected), commandLine[0]);

        node.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await node.WaitForExitAsync(Generous));
    }

    /// <summary>
    /// A folder holding the JIT builds of gantry and gantry-worker: their files linked, their apphosts copied (an apphost
    /// runs the .dll beside its own path, and a node looks for gantry-worker beside the executable it runs from).
    /// </summary>
    private string SideBySide()
    {
        var bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        foreach (var (project, apphost) in new[] { ("Gantry.Cli", "gantry"), ("Gantry.Cli.Worker", "gantry-worker") })
        {
            var from = Path.GetDirectoryName(GantryProcess.Built(project, apphost + ".dll"))!;
            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var to = Path.Combine(bin, Path.GetRelativePath(from, file));
                if (File.Exists(to)) continue;
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                if (Path.GetFileName(file) == apphost) File.Copy(file, to);
                else File.CreateSymbolicLink(to, file);
            }
        }
        return bin;
    }
}
