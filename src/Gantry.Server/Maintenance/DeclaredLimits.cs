using Gantry.Flow;
using Gantry.Storage;
using Microsoft.Extensions.Hosting;

namespace Gantry.Server.Maintenance;

/// <summary>
/// Per-queue flow limits a process declares (gantry.json's <c>limits</c>); set in the store as the process starts,
/// replacing the queue's limits, on queues that hold no job yet too. A queue left out of the file keeps what it has
/// (<c>gantry queues limit NAME --clear</c> removes it).
/// </summary>
internal sealed class DeclaredLimits(IJobStore store, IEnumerable<DeclaredQueueLimits> declared) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var d in declared) await store.QueueLimitsSetAsync(d.Queue, d.Limits, anyQueue: true, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
