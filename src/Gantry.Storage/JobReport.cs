using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// What a worker says about an attempt it holds. Every report carries the attempt and the lease
/// owner; the store applies it only if both still match, so a stale worker cannot change a job.
/// </summary>
public abstract record JobReport(Guid JobId, int Attempt, string WorkerId)
{
    /// <summary>Whether any applied report of a batch may have ended its job (succeeded, dead, cancelled, or a requeue that
    /// a cancel turned into one): the stores then raise <see cref="StoreSignals.JobsEnded"/>.</summary>
    public static bool AnyEnded(IReadOnlyList<JobReport> reports, IReadOnlyList<bool> applied)
    {
        for (var i = 0; i < reports.Count; i++)
            if (applied[i] && reports[i] is JobSucceededReport or JobCancelledReport or JobRequeuedReport or JobFailedReport { Next: Gantry.Jobs.JobState.Dead })
                return true;
        return false;
    }

    /// <summary>True for an outcome (succeeded, failed, cancelled, requeued): once written, the worker no longer holds the attempt.</summary>
    public virtual bool EndsAttempt => false;
}

/// <summary>Progress, 0–100, with an optional message. Does not change the state.</summary>
public sealed record JobProgressReport(Guid JobId, int Attempt, string WorkerId, double Percent, string? Message)
    : JobReport(JobId, Attempt, WorkerId);

/// <summary>The handler returned; <paramref name="Result"/> is JSON text or null.</summary>
public sealed record JobSucceededReport(Guid JobId, int Attempt, string WorkerId, string? Result)
    : JobReport(JobId, Attempt, WorkerId)
{
    /// <inheritdoc/>
    public override bool EndsAttempt => true;
}

/// <summary>The attempt failed; <paramref name="Next"/> and <paramref name="RunAt"/> come from <see cref="RetryPolicy.AfterFailure"/>.</summary>
public sealed record JobFailedReport(Guid JobId, int Attempt, string WorkerId, JobError Error, JobState Next, DateTimeOffset? RunAt)
    : JobReport(JobId, Attempt, WorkerId)
{
    /// <inheritdoc/>
    public override bool EndsAttempt => true;
}

/// <summary>The handler stopped after a cancellation request.</summary>
public sealed record JobCancelledReport(Guid JobId, int Attempt, string WorkerId)
    : JobReport(JobId, Attempt, WorkerId)
{
    /// <inheritdoc/>
    public override bool EndsAttempt => true;
}

/// <summary>The worker gives the job back unfinished (shutdown, drain): queued again, the attempt not counted.</summary>
public sealed record JobRequeuedReport(Guid JobId, int Attempt, string WorkerId)
    : JobReport(JobId, Attempt, WorkerId)
{
    /// <inheritdoc/>
    public override bool EndsAttempt => true;
}

/// <summary>Log lines of the attempt, numbered from 1 within it so that batches keep their order.</summary>
public sealed record JobLogReport(Guid JobId, int Attempt, string WorkerId, IReadOnlyList<JobLogLine> Lines)
    : JobReport(JobId, Attempt, WorkerId);

/// <summary>The attempt's latest checkpoint: bytes a later attempt resumes from. Replaces the previous one.</summary>
public sealed record JobCheckpointReport(Guid JobId, int Attempt, string WorkerId, byte[] Data)
    : JobReport(JobId, Attempt, WorkerId);

/// <summary>What the attempt consumed and how its program ended (process handlers); sent just before the attempt's outcome.</summary>
public sealed record JobUsageReport(Guid JobId, int Attempt, string WorkerId, AttemptUsage Usage)
    : JobReport(JobId, Attempt, WorkerId);
