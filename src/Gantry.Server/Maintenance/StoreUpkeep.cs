using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>
/// Runs the store's own housekeeping (<see cref="IStoreMaintenance.UpkeepAsync"/>): on PostgreSQL it keeps the claim's walk short
/// by vacuuming the table of claimable jobs far more often than autovacuum would. Every
/// <see cref="MaintenanceOptions.UpkeepInterval"/> while the store is busy (the last round cleared rows or found more
/// dead rows than the round before, or jobs were signalled since); on a quiet store only every <see cref="StoreSignals.PollFor"/> of it, so an idle leader costs
/// the database almost nothing, and it looks again within an interval of the next enqueue.
/// </summary>
internal sealed class StoreUpkeep(IJobStore store, MaintenanceOptions options, ILogger<StoreUpkeep> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    private UpkeepResult _last;
    private long _pendingBefore;
    private long _signalled;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        _signalled = store.Signals.JobsAvailable.Count;
        _pendingBefore = _last.Pending;
        _last = await store.UpkeepAsync(ct).ConfigureAwait(false);
        if (_last.Cleared > 0) MaintenanceLog.Upkept(Logger, _last.Cleared);
        return (int)Math.Min(_last.Cleared, int.MaxValue);
    }

    /// <summary>True when the store may have work for the next round: it cleared rows, dead rows are piling up (a few
    /// left from the last claims stay until autovacuum and say nothing), or jobs were signalled since.</summary>
    private bool Busy => _last.Cleared > 0 || _last.Pending > _pendingBefore || store.Signals.JobsAvailable.Count != _signalled;

    protected override async Task WaitAsync(CancellationToken ct)
    {
        var quietUntil = Time.GetUtcNow() + store.Signals.PollFor(options.UpkeepInterval);
        do await Task.Delay(options.UpkeepInterval, Time, ct).ConfigureAwait(false);
        while (!Busy && Time.GetUtcNow() < quietUntil);
    }
}
