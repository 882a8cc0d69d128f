using Gantry.Storage;

namespace Gantry.Jobs;

/// <summary>
/// How an attempt whose worker vanished is ended: the error it gets and the report that ends it.
/// The rescuer (a lease that expired) and a node (a worker process that crashed) both use it, so
/// the rule and the wording live once; the next state comes from <see cref="RetryPolicy.AfterLostWorker"/>.
/// </summary>
public static class WorkerLoss
{
    /// <summary>The error recorded on the attempt: <c>worker X stopped renewing the lease; the attempt was abandoned</c>.</summary>
    public static JobError Error(string? workerId, string what) =>
        new(JobErrorKinds.WorkerLost, $"worker {workerId ?? "?"} {what}; the attempt was abandoned");

    /// <summary>
    /// The report that ends an attempt lost with its worker: cancelled when cancellation was
    /// requested, else failed with a <see cref="JobErrorKinds.WorkerLost"/> error and retried at
    /// once while attempts are left (dead otherwise).
    /// </summary>
    /// <param name="ownerId">The lease owner the report is fenced by.</param>
    /// <param name="lostWorker">The worker that vanished, for the error message.</param>
    public static JobReport Report(JobLease attempt, string ownerId, int maxAttempts, bool cancelRequested, string lostWorker, string what)
    {
        var next = RetryPolicy.AfterLostWorker(attempt.Attempt, maxAttempts, cancelRequested);
        return next == JobState.Cancelled
            ? new JobCancelledReport(attempt.JobId, attempt.Attempt, ownerId)
            : new JobFailedReport(attempt.JobId, attempt.Attempt, ownerId, Error(lostWorker, what), next, null);
    }
}
