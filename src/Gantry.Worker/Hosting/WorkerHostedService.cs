using Gantry.Worker.Execution;
using Microsoft.Extensions.Hosting;

namespace Gantry.Worker.Hosting;

/// <summary>Runs a <see cref="GantryWorker"/> inside a generic host: started with it, drained when it stops.</summary>
public sealed class WorkerHostedService(GantryWorker worker) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => worker.StartAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => worker.StopAsync(cancellationToken);
}
