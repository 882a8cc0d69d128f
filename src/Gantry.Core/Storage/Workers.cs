namespace Gantry.Storage;

/// <summary>A worker as it introduces itself to the registry.</summary>
public sealed record WorkerRegistration
{
    public required string Id { get; init; }
    public required string Host { get; init; }
    public required int ProcessId { get; init; }
    public string Version { get; init; } = "";
    /// <summary>Queue name → the most jobs this worker runs from it at once.</summary>
    public required IReadOnlyDictionary<string, int> Queues { get; init; }
    public required int Capacity { get; init; }
    public IReadOnlyList<string> JobTypes { get; init; } = [];
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>One attempt a worker holds.</summary>
public sealed record JobLease(Guid JobId, int Attempt);

/// <summary>A worker's heartbeat: the attempts it holds, whose leases are to be renewed.</summary>
/// <param name="Jobs">Every attempt the worker holds: claimed and not yet ended, or ended with its final report not yet written.</param>
/// <param name="Managed">A node's worker processes, published into its registry row; null for a plain worker.</param>
/// <param name="Claims">Claims (<see cref="ClaimedJob.ClaimId"/>) whose jobs the worker has taken in since its last
/// successful heartbeat: each of their jobs is in <paramref name="Jobs"/> or finished, so the store may forget them.
/// A claim whose answer never reached the worker is never named: its jobs stay leased by the claim until it expires.</param>
public sealed record WorkerHeartbeatParams(string WorkerId, TimeSpan LeaseDuration, IReadOnlyList<JobLease> Jobs, IReadOnlyList<ManagedWorkerInfo>? Managed = null,
    IReadOnlyList<long>? Claims = null)
{
    public int RunningJobs => Jobs.Count;
}

/// <param name="LostJobs">Attempts the worker holds that are no longer its own (rescued, cancelled, finished
/// elsewhere): it must stop them without reporting.</param>
public sealed record WorkerHeartbeatResult(IReadOnlyList<WorkerCommand> Commands, IReadOnlyList<JobLease> LostJobs);

public static class WorkerStates
{
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Draining = "draining";
    public const string Stopped = "stopped";
    /// <summary>Silent past the dead-worker timeout: presumed crashed or cut off; its jobs were released.</summary>
    public const string Dead = "dead";

    /// <summary>Running, paused or draining: listed by default (stopped and dead ones only on request), and
    /// declared dead when silent.</summary>
    public static bool IsLive(string state) => state is Running or Paused or Draining;

    /// <summary>SQL list of the live states (<see cref="IsLive"/>).</summary>
    public const string LiveSql = "('running', 'paused', 'draining')";

    /// <summary>The state a control command puts a worker in as soon as it is sent (null: none), so that the
    /// registry shows it and the claim refuses at once, even a claim already parked on the server.</summary>
    public static string? After(WorkerCommandKind kind) => kind switch
    {
        WorkerCommandKind.Pause => Paused,
        WorkerCommandKind.Resume => Running,
        WorkerCommandKind.Drain or WorkerCommandKind.Shutdown => Draining,
        _ => null,
    };

    /// <summary>SQL: the state a worker's heartbeat or registration leaves: running, unless paused or draining
    /// (those end by command, or by the worker stopping).</summary>
    public const string SeenSql = "CASE WHEN workers.state IN ('paused', 'draining') THEN workers.state ELSE 'running' END";

    /// <summary>SQL for a command's <see cref="After"/> state (@state): a draining worker stays draining, a stopped or
    /// dead one is not revived.</summary>
    public const string CommandSql = "UPDATE workers SET state = @state WHERE id = @id AND state IN ('running', 'paused')";

    /// <summary>SQL condition of every claim: nothing for a worker (@worker) told to pause or drain.</summary>
    public const string ClaimsSql = "NOT EXISTS (SELECT 1 FROM workers WHERE id = @worker AND state IN ('paused', 'draining'))";
}

public sealed record WorkerRecord
{
    public required WorkerRegistration Registration { get; init; }
    public required string State { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset LastSeenAt { get; init; }
    public int RunningJobs { get; init; }
    /// <summary>For a node: its worker processes as of its last heartbeat. Empty for a plain worker.</summary>
    public IReadOnlyList<ManagedWorkerInfo> Managed { get; init; } = [];
    public string Id => Registration.Id;
}

public enum WorkerCommandKind
{
    /// <summary>Stop the running job <see cref="WorkerCommand.JobId"/> (its cancellation was requested).</summary>
    CancelJob,
    /// <summary>Claim nothing more, finish what runs (up to the drain timeout), give back the rest, deregister and exit.</summary>
    Drain,
    /// <summary>Claim nothing more until resumed; running jobs go on.</summary>
    Pause,
    /// <summary>Claim again after a pause.</summary>
    Resume,
    /// <summary>Stop now: running jobs are interrupted at once (checkpointed where they can be) and given back
    /// without using an attempt, then deregister and exit. A drain with no time to finish.</summary>
    Shutdown,
}

/// <summary>A control command waiting for a worker; handed over by heartbeat or poll.</summary>
public sealed record WorkerCommand(WorkerCommandKind Kind, Guid? JobId);
