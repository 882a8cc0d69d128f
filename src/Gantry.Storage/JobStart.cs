using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// Where a new job starts and the due time it keeps (every way in: a job, a workflow's step, a schedule's fire), and the
/// due time of a failed attempt's retry: one rule for every store and link.
/// </summary>
internal static class JobStart
{
    /// <summary>
    /// The job's <see cref="NewJob.RunAt"/> when it is still to come; null when it is not (the job is due as it is
    /// created). A due time before the job existed is not kept: a queue's oldest queued age and a job's wait in its queue
    /// count from the due time, and would count from then (<c>--run-at 0001-01-01</c> made a queue 2,025 years behind).
    /// </summary>
    public static DateTimeOffset? Delay(NewJob job, DateTimeOffset now) => job.RunAt > now ? job.RunAt : null;

    /// <summary>Scheduled when the job is delayed (<see cref="Delay"/>), else queued.</summary>
    public static JobState State(NewJob job, DateTimeOffset now) => Delay(job, now) is null ? JobState.Queued : JobState.Scheduled;

    /// <summary>
    /// When a failed attempt's retry is due: the time the report proposes (its worker's retry policy), but not before the
    /// failure is written. A worker's report may name any time (the worker protocol takes it as sent); one in the past is
    /// due at once, and the job's wait counts from now, not from then.
    /// </summary>
    public static DateTimeOffset? RetryAt(JobFailedReport failed, DateTimeOffset now) => failed.RunAt < now ? now : failed.RunAt;
}
