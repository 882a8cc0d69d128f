using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Gantry.Worker.Links.Ipc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Hosting;

/// <summary>
/// A worker process spawned by a node (<c>gantry worker --node-socket …</c>): the usual worker host
/// with handlers and config, linked to the node's socket instead of the coordinator. It stops when
/// the node says so, and exits at once when the node's socket closes (the node died: the
/// coordinator rescues the jobs by lease expiry).
/// </summary>
internal static class ManagedWorkerHost
{
    public static async Task<int> RunAsync(string socket, int localId, int nodePid, WorkerOptions options, GantryConfig settings, LogLevel logLevel, CancellationToken ct)
    {
        if (!ParentDeath.Arm(nodePid))
        {
            Console.Error.WriteLine($"gantry: the node (pid {nodePid}) is gone; exiting");
            return Cli.Error;
        }
        await using var link = await IpcWorkerLink.ConnectAsync(socket, localId, ct).ConfigureAwait(false);
        var stopped = 0;
        using var host = ProcessHost.Build(null, options with { WorkerId = $"w{localId}-{Environment.ProcessId}" }, maintenance: null, settings, logLevel, link: link);
        var worker = host.Services.GetRequiredService<GantryWorker>();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        link.ShutdownRequested += graceful =>
        {
            if (graceful) { lifetime.StopApplication(); return; }
            // Not graceful: running jobs are requeued now instead of drained, even when a drain is under way.
            worker.StopNow();
            lifetime.StopApplication();
        };
        try
        {
            await host.StartAsync(ct).ConfigureAwait(false);
        }
        catch (IpcRemoteException ex)
        {
            // The node answered this worker's hello with why it will not take it.
            throw new GantryException($"the node at {socket} refused worker {localId} (pid {Environment.ProcessId}): {ex.Message}");
        }
        catch (IOException) when (link.Closed.IsCompleted)
        {
            throw new GantryException($"the node at {socket} closed the connection before it took worker {localId}: it is stopping, or died");
        }
        // Registered: from now on a closed socket means the node stopped or died, and the coordinator rescues the jobs.
        _ = link.Closed.ContinueWith(_ =>
        {
            if (Volatile.Read(ref stopped) == 1) return;
            Console.Error.WriteLine($"gantry: the node at {socket} closed the connection (it stopped or died); worker {localId} exits");
            Environment.Exit(Cli.Error);
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        Console.Out.WriteLine($"worker {localId} (pid {Environment.ProcessId}) running: capacity {options.EffectiveCapacity}, job types {string.Join(",", worker.JobTypes)}");
        await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        Volatile.Write(ref stopped, 1);
        return Cli.Ok;
    }
}
