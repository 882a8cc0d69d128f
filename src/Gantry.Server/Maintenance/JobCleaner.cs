using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>Deletes finished jobs once they are older than their retention (default 7 days; per queue and state when set), and
/// stopped and dead workers silent for longer than the worker retention (default 1 hour).</summary>
/// <remarks>
/// A large history goes in small batches (<see cref="MaintenanceOptions.CleanerBatch"/>), each its own short transaction, with a
/// pause after each full batch of <see cref="YieldFactor"/> times what the batch took: the cleaner takes at most about a twentieth of
/// the store's write time, so claims and completions beside it are barely slowed (on SQLite every write waits for the one writer).
/// </remarks>
public sealed class JobCleaner(IJobStore store, MaintenanceOptions options, ILogger<JobCleaner> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    /// <summary>The pause after a full batch, as a multiple of the time the batch took.</summary>
    public const int YieldFactor = 19;

    private static readonly TimeSpan LongestYield = TimeSpan.FromSeconds(1);

    /// <summary>Deletes everything past its retention, batch after batch with a pause between full batches; returns how many jobs it deleted.</summary>
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var total = 0;
        int deleted;
        var clean = new JobCleanParams(options.Retention, options.CleanerBatch, options.WorkerRetention);
        do
        {
            var started = Time.GetTimestamp();
            deleted = await store.JobCleanAsync(clean, ct).ConfigureAwait(false);
            total += deleted;
            if (deleted >= clean.Limit)
            {
                var took = Time.GetElapsedTime(started);
                var yieldFor = took * YieldFactor;
                await Task.Delay(yieldFor < LongestYield ? yieldFor : LongestYield, Time, ct).ConfigureAwait(false);
            }
        } while (deleted >= clean.Limit);
        if (total > 0) MaintenanceLog.Cleaned(Logger, total, options.Retention.TotalDays);
        return total;
    }

    /// <inheritdoc/>
    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.CleanerInterval, Time, ct);
}
