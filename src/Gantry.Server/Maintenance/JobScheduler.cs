using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>Moves delayed and backed-off jobs to queued when their time comes, waking for the next one due.</summary>
public sealed class JobScheduler(IJobStore store, MaintenanceOptions options, ILogger<JobScheduler> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var total = 0;
        int promoted;
        do
        {
            promoted = await store.JobPromoteDueAsync(new JobPromoteParams(), ct).ConfigureAwait(false);
            total += promoted;
        } while (promoted >= new JobPromoteParams().Limit);
        if (total > 0) MaintenanceLog.Promoted(Logger, total);
        return total;
    }

    protected override async Task WaitAsync(CancellationToken ct)
    {
        var wait = options.SchedulerInterval;
        if (await store.JobNextDueAsync(ct).ConfigureAwait(false) is { } next)
        {
            var untilDue = next - Time.GetUtcNow();
            if (untilDue < wait) wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
        }
        if (wait > TimeSpan.Zero) await store.Signals.ScheduleChanged.WaitAsync(wait, ct).ConfigureAwait(false);
    }
}
