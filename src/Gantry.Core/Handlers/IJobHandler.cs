namespace Gantry.Handlers;

/// <summary>
/// Runs jobs of one type whose payload deserialises to <typeparamref name="TPayload"/> and whose
/// result is <typeparamref name="TResult"/> (stored as JSON). Register it with
/// <c>services.AddGantryHandler&lt;THandler&gt;("type")</c>; it is resolved per job, from a fresh DI scope (from the root
/// provider when its registrations show a scope could change nothing: a singleton, or a non-disposable transient taking only singletons).
/// Throwing fails the attempt (retried with backoff while attempts are left).
/// </summary>
public interface IJobHandler<in TPayload, TResult>
{
    /// <summary>Runs one attempt of a job; the returned value is the job's result. <paramref name="context"/> carries the attempt, its cancellation token, logger and progress; throwing fails the attempt.</summary>
    ValueTask<TResult> HandleAsync(TPayload payload, JobContext context);
}

/// <summary>A handler whose job has no result.</summary>
public interface IJobHandler<in TPayload>
{
    /// <summary>Runs one attempt of a job; returning succeeds it. <paramref name="context"/> carries the attempt, its cancellation token, logger and progress; throwing fails the attempt.</summary>
    ValueTask HandleAsync(TPayload payload, JobContext context);
}
