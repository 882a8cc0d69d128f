using Gantry.Jobs;
using Gantry.Worker.Handlers.Process;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// A process handler's usage record reaches the store the same way over the store and the HTTP worker
/// protocol (a node's IPC: <c>IpcFramesTests</c>, and a real node in <c>Gantry.Cli.Tests.ConfigTests</c>).
/// </summary>
public sealed class UsageLinkTests : WorkerTestBase
{
    private const string ExitThree = "sh-exit-three";

    protected override void ConfigureServices(IServiceCollection services)
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(Path.Combine(Dir, "three.sh"), "cat > /dev/null\nexit 3\n");
        services.AddGantryProcessHandler(ExitThree, new ProcessHandlerSpec { Command = ["bash", "three.sh"], WorkingDirectory = Dir });
    }

    [Fact]
    public async Task ProcessAttemptUsage_OverStoreAndHttp_Stored()
    {
        await RunThroughAsync("store", new StoreWorkerLink(Store));

        await using var server = await TestServer.StartAsync(Store, Ct);
        using var http = new HttpWorkerLink(server.Url(), token: null);
        await RunThroughAsync("http", http);
    }

    private async Task RunThroughAsync(string name, IWorkerLink link)
    {
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        var id = await EnqueueAsync(Job(ExitThree) with { MaxAttempts = 1 });
        var dead = await WaitForStateAsync(id, JobState.Dead);
        var usage = Assert.Single(dead.Usage);
        Assert.True(usage.Usage is { Outcome: AttemptOutcomes.Exited, ExitCode: 3, Signal: null }, $"over {name}: {usage.Usage}");
        Assert.NotNull(usage.Usage.CpuSeconds);
        Assert.NotNull(usage.Usage.PeakMemoryBytes);
        await worker.StopAsync(Ct);
    }
}
