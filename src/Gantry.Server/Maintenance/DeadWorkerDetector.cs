using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>
/// Marks workers silent past <see cref="MaintenanceOptions.DeadWorkerTimeout"/> (default 30 s) as dead and
/// releases their running jobs at once, rather than leaving them until each lease runs out: a worker
/// that stopped heartbeating has stopped renewing too, and its jobs are better restarted elsewhere now.
/// </summary>
internal sealed class DeadWorkerDetector(IJobStore store, MaintenanceOptions options, ILogger<DeadWorkerDetector> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var dead = await store.WorkerMarkDeadAsync(new WorkerMarkDeadParams(options.DeadWorkerTimeout), ct).ConfigureAwait(false);
        foreach (var worker in dead)
            MaintenanceLog.WorkerDead(Logger, worker.Id, (Time.GetUtcNow() - worker.LastSeenAt).TotalSeconds, worker.ExpiredLeases);
        var released = dead.Sum(w => w.ExpiredLeases);
        // Rescue now rather than at the rescuer's next round: the point of detecting the death is to move on at once.
        if (released > 0) await JobRescuer.RescueAsync(store, ct).ConfigureAwait(false);
        return released;
    }

    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.DeadWorkerInterval, Time, ct);
}
