using Gantry.Worker.Execution;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Hosting;

/// <summary>
/// Runs a <see cref="GantryWorker"/> inside a generic host: started with it, drained when it stops, always within the
/// host's <see cref="HostOptions.ShutdownTimeout"/>: the drain is cut short so that, after it, cancelled handlers still
/// have their grace period and the last reports their time (<see cref="DrainBudget(WorkerOptions, TimeSpan?)"/>); running jobs left then are
/// requeued without counting the attempt, their checkpoints kept. Should the host's own timeout fire anyway, the drain
/// ends at once instead of failing the stop.
/// </summary>
/// <param name="stopApplicationOnDrain">When the worker is drained by command, stop the host too (the <c>gantry</c>
/// command's processes, as <c>gantry workers drain</c> promises); an application's embedded worker just stops.</param>
internal sealed class WorkerHostedService(GantryWorker worker, IHostApplicationLifetime lifetime, HostOptions? host = null,
    bool stopApplicationOnDrain = true, ILogger<WorkerHostedService>? logger = null) : IHostedService
{
    /// <summary>Time kept at the end of the host's shutdown timeout for the last reports and the deregistration.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(3);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await worker.StartAsync(cancellationToken).ConfigureAwait(false);
        if (stopApplicationOnDrain) _ = worker.Drained.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
    }

    /// <summary>
    /// How long running jobs may finish on shutdown: the worker's drain timeout, but no more than the host's shutdown
    /// timeout less the cancel grace period and <see cref="ShutdownMargin"/> (never negative).
    /// </summary>
    public static TimeSpan DrainBudget(WorkerOptions options, TimeSpan? shutdownTimeout) =>
        DrainBudget(options.DrainTimeout, options.CancelGracePeriod, shutdownTimeout);

    /// <summary>The same rule for any drain (a node's workers): <paramref name="drainTimeout"/>, but no more than
    /// <paramref name="shutdownTimeout"/> less <paramref name="cancelGracePeriod"/> and <see cref="ShutdownMargin"/> (never negative).</summary>
    public static TimeSpan DrainBudget(TimeSpan drainTimeout, TimeSpan cancelGracePeriod, TimeSpan? shutdownTimeout)
    {
        if (shutdownTimeout is not { } total || total == Timeout.InfiniteTimeSpan) return drainTimeout;
        var room = total - cancelGracePeriod - ShutdownMargin;
        return room <= TimeSpan.Zero ? TimeSpan.Zero : room < drainTimeout ? room : drainTimeout;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var drain = DrainBudget(worker.Options, host?.ShutdownTimeout);
        if (drain < worker.Options.DrainTimeout && logger is not null)
            logger.LogInformation("Gantry worker {Worker}: draining for {Drain} s, the room the host's shutdown timeout ({Timeout} s) leaves", worker.Id, drain.TotalSeconds, host!.ShutdownTimeout.TotalSeconds);
        // The host's timeout ending the drain requeues running jobs now; the stop then gets the grace period and the margin to finish.
        using var last = new CancellationTokenSource();
        using var cut = cancellationToken.Register(() =>
        {
            worker.StopNow();
            try { last.CancelAfter(worker.Options.CancelGracePeriod + ShutdownMargin); }
            catch (ObjectDisposedException) { }
        });
        try
        {
            await worker.StopAsync(drain, last.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (last.IsCancellationRequested)
        {
            logger?.LogWarning("Gantry worker {Worker}: stopped before its last reports were written; leases it held expire and those jobs are rescued", worker.Id);
        }
    }
}
