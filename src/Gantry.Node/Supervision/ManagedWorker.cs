using System.Diagnostics;
using Gantry.Node.Ipc;
using Gantry.Storage;

namespace Gantry.Node.Supervision;

/// <summary>
/// One worker slot of the node: the process now running in it (if any), its connection, and what
/// outlives a restart (restart count and history, last error, jobs succeeded and failed).
/// Mutated under the supervisor's lock, except the job counters.
/// </summary>
internal sealed class ManagedWorker(int localId)
{
    private long _succeeded, _failed;

    public int LocalId { get; } = localId;
    public string State { get; set; } = ManagedWorkerStates.Starting;
    public Process? Process { get; set; }
    public int? Pid { get; set; }
    public WorkerSession? Session { get; set; }
    public int Restarts { get; set; }
    public RestartHistory History { get; } = new();
    public string? LastError { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset RestartAt { get; set; }
    /// <summary>Set when the node stops it on purpose (scale-down, shutdown): its exit is not a crash.</summary>
    public bool Retiring { get; set; }
    public long NextPingAt { get; set; }
    public bool PingInFlight { get; set; }
    /// <summary>Set when the node killed it, saying why (a missed ping, a start that never connected).</summary>
    public string? KilledBecause { get; set; }

    public long Succeeded => Interlocked.Read(ref _succeeded);
    public long Failed => Interlocked.Read(ref _failed);
    public void CountSucceeded() => Interlocked.Increment(ref _succeeded);
    public void CountFailed() => Interlocked.Increment(ref _failed);

    /// <summary>Alive or about to be: counts toward the node's size.</summary>
    public bool IsLive => State is ManagedWorkerStates.Starting or ManagedWorkerStates.Running or ManagedWorkerStates.Restarting;

    public ManagedWorkerInfo Info(int capacity) =>
        new(LocalId, Pid, State, Restarts, LastError, StartedAt, Succeeded, Failed, Session?.Running ?? 0, capacity);
}
