using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Execution;

/// <summary>The worker's log messages, with stable event ids.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Worker {WorkerId} started on {Link}: queues {Queues}, capacity {Capacity}")]
    public static partial void Started(ILogger logger, string workerId, string link, string queues, int capacity);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Worker {WorkerId} stopping: waiting up to {DrainSeconds}s for {Running} running job(s)")]
    public static partial void Draining(ILogger logger, string workerId, double drainSeconds, int running);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Drain timeout passed: cancelling and requeueing {Running} job(s)")]
    public static partial void DrainTimedOut(ILogger logger, int running);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information,
        Message = "Worker {WorkerId} stopped after {Uptime}: ran {Succeeded} succeeded, {Failed} failed, {Cancelled} cancelled, {Requeued} requeued")]
    public static partial void Stopped(ILogger logger, string workerId, long succeeded, long failed, long cancelled, long requeued, string uptime);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} failed: {Error}")]
    public static partial void JobFailed(ILogger logger, Guid jobId, int attempt, string error);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} ignored cancellation ({Reason}) for {GraceSeconds}s; its slot is freed and the handler abandoned")]
    public static partial void HandlerAbandoned(ILogger logger, Guid jobId, int attempt, string reason, double graceSeconds);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "No handler for job type '{Type}' (job {JobId}); known types: {Known}")]
    public static partial void NoHandler(ILogger logger, string type, Guid jobId, string known);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "Report for job {JobId} attempt {Attempt} was rejected: the job is no longer this worker's attempt (stale)")]
    public static partial void StaleReport(ILogger logger, Guid jobId, int attempt);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Error, Message = "Report for job {JobId} attempt {Attempt} was refused by the coordinator for what it holds, and is dropped: {Reason}")]
    public static partial void RefusedReport(ILogger logger, Guid jobId, int attempt, string reason);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} is no longer this worker's (its lease was lost); stopping it")]
    public static partial void LeaseLost(ILogger logger, Guid jobId, int attempt);

    [LoggerMessage(EventId = 1042, Level = LogLevel.Warning, Message = "Leases not renewed for {Seconds:0.#}s (lease {LeaseSeconds:0.#}s): stopping {Count} attempt(s) before another worker may take them")]
    public static partial void LeasesRunningOut(ILogger logger, int count, double seconds, double leaseSeconds);

    [LoggerMessage(EventId = 1050, Level = LogLevel.Warning, Message = "Checkpoint of job {JobId} attempt {Attempt} was rejected: the attempt is no longer this worker's")]
    public static partial void CheckpointRejected(ILogger logger, Guid jobId, int attempt);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Error, Message = "Taking a checkpoint of job {JobId} failed")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, Guid jobId);

    [LoggerMessage(EventId = 1060, Level = LogLevel.Information, Message = "Worker {WorkerId}: {Command}")]
    public static partial void Command(ILogger logger, string workerId, string command);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "Cancelling job {JobId} on request")]
    public static partial void CancelRequested(ILogger logger, Guid jobId);

    [LoggerMessage(EventId = 1070, Level = LogLevel.Debug, Message = "Gave back {Count} prefetched job(s): their queue's slots have been busy for {StaleMs} ms with slower jobs")]
    public static partial void GaveBack(ILogger logger, int count, double staleMs);
}
