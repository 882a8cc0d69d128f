namespace Gantry.Jobs;

/// <summary>What happens to a job after an attempt ends without success. The only place that decides it.</summary>
public static class RetryPolicy
{
    /// <summary>
    /// The handler threw or timed out: back off and retry while attempts are left, else dead.
    /// A failure that cannot succeed on retry (<paramref name="retryable"/> false, e.g. a payload
    /// that does not fit the handler, or a handler's <see cref="Handlers.JobFailedException"/> with
    /// <c>retry: false</c>) is dead at once. <paramref name="retryAfter"/>, a delay the handler asked
    /// for, replaces the backoff; attempts left still decide whether there is a next one.
    /// </summary>
    public static (JobState Next, DateTimeOffset? RunAt) AfterFailure(
        int attempt, int maxAttempts, Backoff backoff, DateTimeOffset now, Random random, bool retryable = true, TimeSpan? retryAfter = null)
    {
        if (attempt >= maxAttempts || !retryable)
            return (JobStateMachine.Apply(JobState.Running, JobTransition.FailForGood, JobState.Dead), null);
        var runAt = now + (retryAfter is { } asked && asked >= TimeSpan.Zero ? asked : backoff.DelayAfter(attempt, random));
        return (JobStateMachine.Apply(JobState.Running, JobTransition.FailAndRetry, JobState.Scheduled), runAt);
    }

    /// <summary>
    /// The worker was lost (its lease expired): a job whose cancellation was requested ends
    /// cancelled; otherwise it runs again at once while attempts are left, else it is dead.
    /// </summary>
    public static JobState AfterLostWorker(int attempt, int maxAttempts, bool cancelRequested)
    {
        var next = cancelRequested ? JobState.Cancelled
            : attempt >= maxAttempts ? JobState.Dead
            : JobState.Queued;
        return JobStateMachine.Apply(JobState.Running, JobTransition.Rescue, next);
    }
}
