namespace Gantry.Jobs;

/// <summary>Why one attempt did not succeed. Kept for every failed attempt.</summary>
/// <param name="Kind">One of <see cref="JobErrorKinds"/>.</param>
/// <param name="Type">The exception type, when there was one.</param>
public sealed record JobError(string Kind, string Message, string? Type = null, string? StackTrace = null)
{
    public static JobError FromException(Exception ex) =>
        new(JobErrorKinds.Exception, ex.Message, ex.GetType().FullName, ex.StackTrace);
}

public static class JobErrorKinds
{
    public const string Exception = "exception";
    public const string Timeout = "timeout";
    public const string WorkerLost = "worker_lost";
}

/// <summary>A failed attempt as stored.</summary>
public sealed record JobAttemptError(int Attempt, DateTimeOffset At, string? WorkerId, JobError Error);
