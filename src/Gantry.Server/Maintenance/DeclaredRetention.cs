using Gantry.Storage;
using Microsoft.Extensions.Hosting;

namespace Gantry.Server.Maintenance;

/// <summary>Per-queue retention a process declares (gantry.json, code); set in the store as the process starts.</summary>
internal sealed class DeclaredRetention(IJobStore store, IEnumerable<QueueRetention> declared) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var retention in declared) await store.QueueRetentionSetAsync(retention, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
