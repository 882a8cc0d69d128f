using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// Waiting for a job to end (succeeded, dead or cancelled) on a store, for <c>IJobClient.WaitAsync</c> and the API's
/// <c>GET /api/v1/jobs/{id}?wait=</c>. The job is read again when the store signals that jobs ended
/// (<see cref="StoreSignals.JobsEnded"/>: this process's writes of outcomes and cancels, and on PostgreSQL other
/// processes' too), so an end is seen within milliseconds; a slow safety poll (<see cref="FirstLook"/>, doubling to
/// <see cref="LongestLook"/>) covers what no signal reaches (another process on SQLite, a lost notification).
/// </summary>
public static class JobWaits
{
    /// <summary>The first pause of the safety poll.</summary>
    public static readonly TimeSpan FirstLook = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait one request may ask for (the API's <c>?wait=</c>): a minute, the idle timeout of many
    /// clients and proxies.</summary>
    public static readonly TimeSpan LongestRequest = TimeSpan.FromSeconds(60);

    /// <summary>The longest pause of the safety poll.</summary>
    public static readonly TimeSpan LongestLook = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The job once it has ended, or as it is when <paramref name="timeout"/> has passed (<see cref="Timeout.InfiniteTimeSpan"/>:
    /// no limit); null when there is no such job.
    /// </summary>
    public static async Task<JobRecord?> UntilEndedAsync(IJobStore store, Guid id, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        // The cursor before the first read: an end written after the read wakes the wait below.
        var ended = store.Signals.JobsEnded.Cursor();
        var started = time.GetTimestamp();
        var pause = FirstLook;
        while (true)
        {
            var job = await store.JobGetAsync(id, ct).ConfigureAwait(false);
            if (job is null || job.State.IsTerminal()) return job;
            var wait = pause;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                var left = timeout - time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero) return job;
                if (left < wait) wait = left;
            }
            await ended.WaitAsync(wait, time, ct).ConfigureAwait(false);
            pause = pause * 2 < LongestLook ? pause * 2 : LongestLook;
        }
    }
}
