using System.Diagnostics;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Node;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Gantry.Hosting.Tests;

/// <summary>A node in an application's generic host (<c>AddNode</c>), spawning real <c>gantry worker</c> processes.</summary>
public sealed class NodeHostingTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));

    private CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    /// <summary>The built CLI, which the node starts as its workers: artifacts/bin/Gantry.Cli/&lt;config&gt;/gantry.dll.</summary>
    private static string GantryDll() => TestApp.Built("Gantry.Cli", "gantry.dll");

    private Dictionary<string, string?> NodeSettings(string db) => new()
    {
        ["Store"] = $"sqlite:{db}",
        ["Node:Workers"] = "2",
        ["Node:Queues:default"] = "2",
        ["Node:RunDir"] = _dir.Path,
        ["Node:WorkerCommand:0"] = "dotnet",
        ["Node:WorkerCommand:1"] = GantryDll(),
        ["Node:WorkerArguments:0"] = "--poll-interval",
        ["Node:WorkerArguments:1"] = "100ms",
        // What the gantry workers serve, registered for the node, so that enqueueing them is accepted.
        ["Node:JobTypes"] = "echo,sleep",
        // Longer than the host allows: the node must cut its workers' drain to fit the shutdown timeout.
        ["Node:DrainTimeout"] = "1m",
        ["Node:CancelGracePeriod"] = "1s",
    };

    [Fact]
    public async Task AddNode_InAGenericHost_RunsJobsInWorkerProcessesAndRequeuesRunningOnesWithinTheShutdownTimeout()
    {
        var shutdownTimeout = TimeSpan.FromSeconds(10);
        var db = _dir.File("node.db");
        var builder = TestApp.Builder(NodeSettings(db), g => g.AddNode());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
        builder.Services.AddGantryHealthChecks();
        using var host = builder.Build();
        await host.StartAsync(Ct);
        var stopped = false;
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var node = host.Services.GetRequiredService<GantryNode>();
            Assert.Equal(["dotnet", GantryDll()], node.Options.WorkerCommand);

            var echo = await jobs.EnqueueAsync("echo", new { hello = "node" }, ct: Ct);
            var result = await jobs.WaitAsync<JsonElement>(echo, Ct);
            Assert.Equal("node", result.GetProperty("hello").GetString());
            // Run by one of the node's worker processes, under the node's id.
            Assert.Equal(node.Id, (await jobs.GetAsync(echo, Ct))!.WorkerId);

            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
            Assert.Equal(HealthStatus.Healthy, health.Entries["gantry-node"].Status);
            Assert.Equal(["gantry-node", "gantry-store", "gantry-worker"], health.Entries.Keys.Order(StringComparer.Ordinal));

            var sleeper = await jobs.EnqueueAsync("sleep", new { ms = 600_000 }, ct: Ct);
            while ((await jobs.GetAsync(sleeper, Ct))!.State != JobState.Running) await Task.Delay(50, Ct);

            var stopping = Stopwatch.StartNew();
            await host.StopAsync(CancellationToken.None);
            stopped = true;
            output.WriteLine($"stopped in {stopping.Elapsed.TotalSeconds:0.00} s (ShutdownTimeout {shutdownTimeout.TotalSeconds} s)");
            Assert.True(stopping.Elapsed < shutdownTimeout, $"took {stopping.Elapsed}");

            var job = (await jobs.GetAsync(sleeper, Ct))!;
            Assert.Equal((JobState.Queued, 0), (job.State, job.Attempt));
            Assert.Empty(job.Errors);
            Assert.DoesNotContain(node.Status().Workers, w => w.Pid is { } pid && Alive(pid));
        }
        finally
        {
            if (!stopped) await host.StopAsync(CancellationToken.None);
        }
    }

    private static bool Alive(int pid)
    {
        try { return !Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    [Fact]
    public async Task AddNode_BadSettings_StopTheStartNamingTheirKeys()
    {
        var settings = NodeSettings(_dir.File("bad.db"));
        settings["Node:Workers"] = "3";
        settings["Node:MaxWorkers"] = "2";
        settings["Node:AutoscaleTarget"] = "lots";
        settings["Node:Wokers"] = "1";
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(settings, g => g.AddNode()));
        Assert.Contains("Gantry:Node:AutoscaleTarget: 'lots' is not a fraction from 0 to 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gantry:Node:Wokers: is not a Gantry setting", ex.Message, StringComparison.Ordinal);

        settings.Remove("Node:AutoscaleTarget");
        settings.Remove("Node:Wokers");
        ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(settings, g => g.AddNode()));
        Assert.Contains("Gantry:Node:Workers: (3) must be between --min-workers (2) and --max-workers (2)", ex.Message, StringComparison.Ordinal);
    }
}
