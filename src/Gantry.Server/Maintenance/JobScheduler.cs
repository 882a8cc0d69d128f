using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>
/// Moves delayed and backed-off jobs to queued when their time comes, waking for the next one due, or when a job
/// becomes scheduled (<see cref="StoreSignals.ScheduleChanged"/>). With no job due it looks again after
/// <see cref="MaintenanceOptions.SchedulerInterval"/>, or, while the store's signals carry every process's writes, after
/// <see cref="StoreSignals.CrossProcessPoll"/>.
/// </summary>
internal sealed class JobScheduler(IJobStore store, MaintenanceOptions options, ILogger<JobScheduler> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    private readonly SignalCursor _changes = store.Signals.ScheduleChanged.Cursor();

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
        var wait = store.Signals.PollFor(options.SchedulerInterval);
        if (await store.JobNextDueAsync(ct).ConfigureAwait(false) is { } next)
        {
            var untilDue = next - Time.GetUtcNow();
            if (untilDue < wait) wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
        }
        if (wait > TimeSpan.Zero) await _changes.WaitAsync(wait, Time, ct).ConfigureAwait(false);
    }
}
