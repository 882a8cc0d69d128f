using Gantry.Worker.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Node.Hosting;

/// <summary>
/// Runs a <see cref="GantryNode"/> inside a generic host: started with it, stopped when it stops, always within the host's
/// <see cref="HostOptions.ShutdownTimeout"/>. The workers drain for the node's drain timeout, but no longer than the
/// room the shutdown timeout leaves after the cancel grace period and a margin (<see cref="WorkerHostedService.DrainBudget(TimeSpan, TimeSpan, TimeSpan?)"/>);
/// then the node stops now: its workers requeue what still runs, without counting the attempt, checkpoints kept.
/// </summary>
/// <param name="stopApplicationOnDrain">When the coordinator drains or shuts down the node by command, stop the host too
/// (the <c>gantry node</c> process exits); otherwise only the node stops and the application goes on.</param>
internal sealed class NodeHostedService(GantryNode node, IHostApplicationLifetime lifetime, HostOptions? host = null,
    bool stopApplicationOnDrain = true, ILogger<NodeHostedService>? logger = null) : IHostedService
{
    private Task? _stoppedByCommand;

    /// <summary>The node this service runs.</summary>
    public GantryNode Node => node;

    /// <summary>True once the node has started (registered and spawning its workers).</summary>
    public bool Started { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
        Started = true;
        _ = node.Drained.ContinueWith(_ =>
        {
            if (stopApplicationOnDrain) lifetime.StopApplication();
            else _stoppedByCommand = node.StopAsync(CancellationToken.None);
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var options = node.Options;
        var drain = WorkerHostedService.DrainBudget(options.DrainTimeout, options.CancelGracePeriod, host?.ShutdownTimeout);
        if (drain < options.DrainTimeout && logger is not null)
            logger.LogInformation("Gantry node {Node}: draining for {Drain} s, the room the host's shutdown timeout ({Timeout} s) leaves", node.Id, drain.TotalSeconds, host!.ShutdownTimeout.TotalSeconds);
        // Past the budget, or when the host's own timeout fires, the workers give their jobs back now; the stop then gets the
        // grace period and the margin to write the last reports and deregister.
        using var last = new CancellationTokenSource();
        void Now()
        {
            node.StopNow();
            try { last.CancelAfter(options.CancelGracePeriod + WorkerHostedService.ShutdownMargin); }
            catch (ObjectDisposedException) { }
        }
        using var budget = new CancellationTokenSource();
        using var afterBudget = drain < options.DrainTimeout ? budget.Token.Register(Now) : default;
        if (drain < options.DrainTimeout) budget.CancelAfter(drain);
        using var cut = cancellationToken.Register(Now);
        try
        {
            await (_stoppedByCommand ?? node.StopAsync(last.Token)).WaitAsync(last.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (last.IsCancellationRequested)
        {
            logger?.LogWarning("Gantry node {Node}: stopped before its last reports were written; leases it held expire and those jobs are rescued", node.Id);
        }
    }
}
