using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>Where a new job starts, and the due time it keeps: one rule for every store and every way in (a job, a workflow's step, a schedule's fire).</summary>
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
}
