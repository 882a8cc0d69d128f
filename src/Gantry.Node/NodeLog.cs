using Microsoft.Extensions.Logging;

namespace Gantry.Node;

/// <summary>The node's log messages, with stable event ids.</summary>
internal static partial class NodeLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Node {NodeId} started on {Link}: {Workers} worker(s) of capacity {Capacity} ({Min}–{Max}), socket {Socket}")]
    public static partial void Started(ILogger logger, string nodeId, string link, int workers, int capacity, int min, int max, string socket);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Worker {LocalId} started (pid {Pid})")]
    public static partial void WorkerSpawned(ILogger logger, int localId, int pid);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Worker {LocalId} connected (pid {Pid}, capacity {Capacity})")]
    public static partial void WorkerConnected(ILogger logger, int localId, int pid, int capacity);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Worker {LocalId} (pid {Pid}) {What}; restart {Restarts} in {DelaySeconds}s")]
    public static partial void WorkerRestarting(ILogger logger, int localId, int pid, string what, int restarts, double delaySeconds);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Worker {LocalId} (pid {Pid}) {What}; it restarted {Restarts} times within {WindowSeconds}s, so it is marked failed and not started again")]
    public static partial void WorkerFailed(ILogger logger, int localId, int pid, string what, int restarts, double windowSeconds);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Error, Message = "No worker of this node is left: every one failed. The node claims nothing and registers no capacity; 'gantry workers resume {NodeId}' starts the failed workers again")]
    public static partial void AllWorkersFailed(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Starting {Count} failed worker(s) again, as asked")]
    public static partial void RestartingFailed(ILogger logger, int count);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Worker {LocalId} (pid {Pid}) stopped")]
    public static partial void WorkerStopped(ILogger logger, int localId, int pid);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Worker {LocalId} (pid {Pid}) {What}: killing it")]
    public static partial void WorkerKilled(ILogger logger, int localId, int pid, string what);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Worker {LocalId} was lost with {Failed} running job(s) (failed, retried at once) and {Requeued} not started (requeued)")]
    public static partial void JobsLost(ILogger logger, int localId, int failed, int requeued);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Error, Message = "Worker {LocalId} could not be started: {Error}")]
    public static partial void SpawnFailed(ILogger logger, int localId, string error);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Autoscaling from {From} to {To} worker(s): {Why}; utilisation {LowestUtilisation:P0} to {HighestUtilisation:P0} over {Samples} sample(s), backlog {Backlog}; next change after {CooldownSeconds}s at the earliest")]
    public static partial void Scaling(ILogger logger, int from, int to, string why, int samples, double lowestUtilisation, double highestUtilisation, long backlog, double cooldownSeconds);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Node {NodeId}: {What}")]
    public static partial void Command(ILogger logger, string nodeId, string what);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "IPC: {What}")]
    public static partial void IpcProblem(ILogger logger, string what);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "Leases not renewed for {Seconds:0.#}s (lease {LeaseSeconds:0.#}s): {Count} attempt(s) taken back from the workers before another worker may take them")]
    public static partial void LeasesRunningOut(ILogger logger, int count, double seconds, double leaseSeconds);

    [LoggerMessage(EventId = 3030, Level = LogLevel.Information, Message = "Node {NodeId} stopping: draining {Workers} worker(s) for up to {DrainSeconds}s")]
    public static partial void Stopping(ILogger logger, string nodeId, int workers, double drainSeconds);

    [LoggerMessage(EventId = 3031, Level = LogLevel.Information,
        Message = "Node {NodeId} stopped after {Uptime}: its workers ran {Succeeded} succeeded, {Failed} failed, {Cancelled} cancelled, {Requeued} requeued")]
    public static partial void Stopped(ILogger logger, string nodeId, long succeeded, long failed, long cancelled, long requeued, string uptime);
}
