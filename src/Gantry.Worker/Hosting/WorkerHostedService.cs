using Gantry.Worker.Execution;
using Microsoft.Extensions.Hosting;

namespace Gantry.Worker.Hosting;

/// <summary>Runs a <see cref="GantryWorker"/> inside a generic host: started with it, drained when it stops.</summary>
/// <remarks>A worker drained by command stops itself; the process then exits, as <c>gantry workers drain</c> promises.</remarks>
public sealed class WorkerHostedService(GantryWorker worker, IHostApplicationLifetime lifetime) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await worker.StartAsync(cancellationToken).ConfigureAwait(false);
        _ = worker.Drained.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
    }

    public Task StopAsync(CancellationToken cancellationToken) => worker.StopAsync(cancellationToken);
}
