using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>Runs the store's own housekeeping (<see cref="IJobStore.UpkeepAsync"/>) every second: on PostgreSQL it keeps
/// the claim's walk short by vacuuming the table of claimable jobs far more often than autovacuum would.</summary>
public sealed class StoreUpkeep(IJobStore store, MaintenanceOptions options, ILogger<StoreUpkeep> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var cleared = await store.UpkeepAsync(ct).ConfigureAwait(false);
        if (cleared > 0) MaintenanceLog.Upkept(Logger, cleared);
        return (int)Math.Min(cleared, int.MaxValue);
    }

    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.UpkeepInterval, Time, ct);
}
