using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// The statements a relational store runs for worker reports, written once for every backend
/// (the SQL is the same; only types bound to the parameters differ). Each is fenced: it changes
/// a job only while it is running as this attempt of this worker. Parameters: <c>@id</c>,
/// <c>@attempt</c>, <c>@worker</c>, and the ones each statement names.
/// </summary>
internal static class ReportSql
{
    /// <summary>The job is still this attempt's, held by this worker (<see cref="FenceSql.Report"/>).</summary>
    private static readonly string Fence = FenceSql.Report;

    public static readonly string Progress = $"UPDATE jobs SET progress = @progress, progress_message = @message WHERE {Fence}";

    public static readonly string Checkpoint = $"UPDATE jobs SET checkpoint = @data, checkpoint_at = @now WHERE {Fence}";

    /// <summary>The handler stopped after a cancellation request. Returns <paramref name="key"/>. (Both cancel statements set
    /// cancel_requested_at, which holds already: SQLite's counting trigger fires on the columns only the cold transitions set.)</summary>
    public static string Cancelled(string key) => $"""
        UPDATE jobs SET state = '{JobState.Cancelled.ToText()}', finished_at = @now, lease_until = NULL, cancel_requested_at = coalesce(cancel_requested_at, @now)
        WHERE {Fence} AND {StateSql.From(JobTransition.Cancel)}
        RETURNING {key}
        """;

    /// <summary>
    /// A job whose cancellation was requested ends cancelled however the attempt ended, as a rescued
    /// one does: a failure (retried) or a give-back (requeued) must not bring back a job the user
    /// cancelled. Returns <paramref name="key"/> of the row when it applied.
    /// </summary>
    public static string CancelIfRequested(string key) => $"""
        UPDATE jobs SET state = '{JobState.Cancelled.ToText()}', finished_at = @now, lease_until = NULL, cancel_requested_at = coalesce(cancel_requested_at, @now)
        WHERE {Fence} AND cancel_requested_at IS NOT NULL AND {StateSql.From(JobTransition.Cancel)}
        RETURNING {key}
        """;

    /// <summary>
    /// The attempt failed: <c>@next</c> and <c>@run_at</c> are what the worker's <see cref="RetryPolicy"/> proposed,
    /// applied only while attempts are left (<see cref="StateSql.AttemptsLeft"/>); the last attempt's failure
    /// is dead whatever the report says, so no worker can run a job past its <c>max_attempts</c>. <c>@finished_at</c>
    /// is the proposal's (set for dead), <c>@now</c> the time a forced death is stamped with.
    /// Returns <paramref name="key"/> and the state the job took.
    /// </summary>
    public static string Fail(string key) => $"""
        UPDATE jobs SET
          state = CASE WHEN {StateSql.AttemptsLeft()} THEN @next ELSE '{JobState.Dead.ToText()}' END,
          run_at = CASE WHEN {StateSql.AttemptsLeft()} THEN @run_at END,
          finished_at = CASE WHEN {StateSql.AttemptsLeft()} THEN @finished_at ELSE @now END,
          lease_until = NULL
        WHERE {Fence}
        RETURNING {key}, state
        """;

    /// <summary>Given back unfinished: the attempt is not counted, so the next claim gets the same number. (It names
    /// run_at, unchanged, for SQLite's counting trigger, which gives the slot back under a limit without keys.)</summary>
    public static readonly string Requeue = $"""
        UPDATE jobs SET state = '{JobState.Queued.ToText()}', attempt = attempt - 1, lease_until = NULL, worker_id = NULL, run_at = run_at
        WHERE {Fence} AND {StateSql.From(JobTransition.Requeue)}
        """;
}
