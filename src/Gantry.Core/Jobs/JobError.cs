namespace Gantry.Jobs;

/// <summary>Why one attempt did not succeed. Kept for every failed attempt.</summary>
/// <param name="Kind">One of <see cref="JobErrorKinds"/>.</param>
/// <param name="Type">The exception type, when there was one.</param>
public sealed record JobError(string Kind, string Message, string? Type = null, string? StackTrace = null)
{
    /// <summary>The error of an exception a handler threw: kind <see cref="JobErrorKinds.Exception"/>, its message, type name and stack trace.</summary>
    public static JobError FromException(Exception ex) =>
        new(JobErrorKinds.Exception, ex.Message, ex.GetType().FullName, ex.StackTrace);
}

/// <summary>What kind of failure a <see cref="JobError"/> records, as stored and shown.</summary>
public static class JobErrorKinds
{
    /// <summary>The handler threw (or a process handler failed).</summary>
    public const string Exception = "exception";
    /// <summary>The attempt ran past the job's timeout.</summary>
    public const string Timeout = "timeout";
    /// <summary>The worker holding the attempt stopped renewing its lease (crashed, killed, cut off).</summary>
    public const string WorkerLost = "worker_lost";
}

/// <summary>A failed attempt as stored.</summary>
public sealed record JobAttemptError(int Attempt, DateTimeOffset At, string? WorkerId, JobError Error);
