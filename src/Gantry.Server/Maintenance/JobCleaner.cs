using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>Deletes finished jobs once they are older than the retention (default 7 days), and stopped and dead
/// workers silent for longer than the worker retention (default 1 hour).</summary>
public sealed class JobCleaner(IJobStore store, MaintenanceOptions options, ILogger<JobCleaner> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.JobCleanAsync(new JobCleanParams(options.Retention, WorkerRetention: options.WorkerRetention), ct).ConfigureAwait(false);
            total += deleted;
        } while (deleted >= new JobCleanParams(options.Retention).Limit);
        if (total > 0) MaintenanceLog.Cleaned(Logger, total, options.Retention.TotalDays);
        return total;
    }

    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.CleanerInterval, Time, ct);
}
