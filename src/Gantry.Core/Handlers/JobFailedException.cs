namespace Gantry.Handlers;

/// <summary>
/// Thrown by a handler to end its attempt as failed and say what should happen next: <c>retry: false</c> fails the
/// job for good (dead at once, whatever attempts are left: a card declined, a record that no longer exists), and
/// <c>retryAfter</c> asks for the next attempt after that delay instead of the job's backoff (a rate
/// limit's <c>Retry-After</c>). The job's attempts still bound the retries (<see cref="Jobs.RetryPolicy"/>). Any other
/// exception fails the attempt and is retried with backoff.
/// </summary>
public sealed class JobFailedException : Exception
{
    /// <param name="message">Why the attempt failed, kept with the job's errors.</param>
    /// <param name="retry">False: the job is dead now. True (the default): retried while attempts are left.</param>
    /// <param name="retryAfter">When retried, the delay before the next attempt (zero or more); null: the job's backoff.</param>
    /// <param name="innerException">The error behind it, if any.</param>
    public JobFailedException(string message, bool retry = true, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        if (retryAfter is { } delay && delay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(retryAfter), delay, "a retry delay must be zero or more");
        if (!retry && retryAfter is not null)
            throw new ArgumentException("a job failed for good (retry: false) is not retried, so it takes no retry delay", nameof(retryAfter));
        Retry = retry;
        RetryAfter = retryAfter;
    }

    /// <summary>Fails the attempt with the message "the job failed"; retried with backoff while attempts are left.</summary>
    public JobFailedException() : this("the job failed") { }

    /// <summary>Fails the attempt with <paramref name="message"/>; retried with backoff while attempts are left.</summary>
    public JobFailedException(string message) : this(message, retry: true) { }

    /// <summary>Fails the attempt with <paramref name="message"/> caused by <paramref name="innerException"/>; retried with backoff while attempts are left.</summary>
    public JobFailedException(string message, Exception innerException) : this(message, retry: true, retryAfter: null, innerException) { }

    /// <summary>False when the job must not be retried.</summary>
    public bool Retry { get; }

    /// <summary>The delay before the next attempt that the handler asked for; null for the job's backoff.</summary>
    public TimeSpan? RetryAfter { get; }
}
