namespace Gantry.Storage;

/// <summary>
/// One worker process a node manages, as the node publishes it with its heartbeat (the coordinator
/// does not know managed workers otherwise: the node speaks for them).
/// </summary>
/// <param name="LocalId">The worker's number within its node.</param>
/// <param name="State">One of <see cref="ManagedWorkerStates"/>.</param>
/// <param name="Restarts">Times the node started it again after it exited or stopped answering.</param>
/// <param name="LastError">Why it last exited or was killed, if it did.</param>
/// <param name="StartedAt">When its current process started.</param>
public sealed record ManagedWorkerInfo(int LocalId, int? Pid, string State, int Restarts, string? LastError, DateTimeOffset? StartedAt,
    long Succeeded, long Failed, int Running, int Capacity);

/// <summary>The states of a node's worker process (<see cref="ManagedWorkerInfo.State"/>).</summary>
public static class ManagedWorkerStates
{
    /// <summary>Spawned, not connected yet.</summary>
    public const string Starting = "starting";
    /// <summary>Connected and serving jobs.</summary>
    public const string Running = "running";
    /// <summary>Exited or killed; waits out its restart backoff.</summary>
    public const string Restarting = "restarting";
    /// <summary>Finishing its jobs before it stops (scale-down or shutdown).</summary>
    public const string Draining = "draining";
    /// <summary>Restarted too often within the window: not started again.</summary>
    public const string Failed = "failed";
    /// <summary>Stopped on purpose (scale-down or shutdown): not started again.</summary>
    public const string Stopped = "stopped";

    /// <summary>No worker of the node is starting, running or restarting, and at least one failed: the node runs
    /// nothing until told to resume (its state is shown as failed).</summary>
    public static bool AllFailed(IEnumerable<string> states)
    {
        var any = false;
        foreach (var state in states)
        {
            if (state is Starting or Running or Restarting) return false;
            any |= state == Failed;
        }
        return any;
    }

    /// <summary>Every state, in the order a worker's life goes through them.</summary>
    public static readonly IReadOnlyList<string> All = [Starting, Running, Restarting, Draining, Failed, Stopped];
}
