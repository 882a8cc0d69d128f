namespace Gantry.Storage;

/// <summary>A worker as it introduces itself to the registry.</summary>
public sealed record WorkerRegistration
{
    /// <summary>The worker's id, unique among live workers; the lease owner of what it claims.</summary>
    public required string Id { get; init; }
    /// <summary>A name for people (<c>--name</c>), shown beside the id in listings; null when none was given.</summary>
    public string? Name { get; init; }
    /// <summary>The machine the worker runs on.</summary>
    public required string Host { get; init; }
    /// <summary>The worker's process id on <see cref="Host"/>.</summary>
    public required int ProcessId { get; init; }
    /// <summary>The Gantry version the worker runs; empty when not given.</summary>
    public string Version { get; init; } = "";
    /// <summary>Queue name → the most jobs this worker runs from it at once.</summary>
    public required IReadOnlyDictionary<string, int> Queues { get; init; }
    /// <summary>Most jobs the worker runs at once over all its queues.</summary>
    public required int Capacity { get; init; }
    /// <summary>The job types the worker serves; a submit may check types against the registry.</summary>
    public IReadOnlyList<string> JobTypes { get; init; } = [];
    /// <summary>What the worker offers; a job requiring capabilities goes only to a worker that has them all.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    /// <summary>Free-form key/value labels shown in listings.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    /// <summary>How often the worker heartbeats, so that the coordinator can refuse one it would declare dead
    /// while healthy (<see cref="HeartbeatRule"/>). Null from a worker that does not say.</summary>
    public double? HeartbeatIntervalSeconds { get; init; }
}

/// <summary>
/// A worker silent for the coordinator's dead-worker timeout is declared dead and its jobs run again
/// elsewhere. A healthy worker must never be: its heartbeat interval may be at most a third of that
/// timeout, so that two heartbeats may be late or lost. Checked where the two meet: the server's
/// registration (HTTP workers, nodes over --server) and <c>gantry run</c> at start.
/// </summary>
public static class HeartbeatRule
{
    /// <summary>Heartbeats that must fit in the dead-worker timeout: 3.</summary>
    public const int HeartbeatsPerTimeout = 3;

    /// <summary>Throws <see cref="InvalidInputException"/> naming <paramref name="field"/> when the interval is not
    /// positive or too long for the timeout.</summary>
    public static void Check(TimeSpan heartbeatInterval, TimeSpan deadWorkerTimeout, string field)
    {
        if (!(heartbeatInterval > TimeSpan.Zero)) throw new InvalidInputException(field, "must be positive");
        var longest = deadWorkerTimeout / HeartbeatsPerTimeout;
        if (heartbeatInterval > longest)
            throw new InvalidInputException(field,
                $"a heartbeat every {heartbeatInterval.TotalSeconds:0.###}s is too seldom for the coordinator's dead-worker timeout of " +
                $"{deadWorkerTimeout.TotalSeconds:0.###}s: the worker would be declared dead while healthy; use at most {longest.TotalSeconds:0.###}s " +
                $"(a third of the timeout), or a longer --dead-worker-timeout");
    }

    /// <summary>The same for a registration's <see cref="WorkerRegistration.HeartbeatIntervalSeconds"/>, when it gives one.</summary>
    public static void Check(WorkerRegistration registration, TimeSpan deadWorkerTimeout)
    {
        if (registration.HeartbeatIntervalSeconds is not { } seconds) return;
        if (!double.IsFinite(seconds) || seconds <= 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
            throw new InvalidInputException("heartbeat_interval_seconds", $"must be a positive number of seconds, got {seconds}");
        Check(TimeSpan.FromSeconds(seconds), deadWorkerTimeout, "heartbeat_interval_seconds");
    }
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
    /// <summary>Attempts the worker holds: the count of <see cref="Jobs"/>.</summary>
    public int RunningJobs => Jobs.Count;
}

/// <param name="LostJobs">Attempts the worker holds that are no longer its own (rescued, cancelled, finished
/// elsewhere): it must stop them without reporting.</param>
public sealed record WorkerHeartbeatResult(IReadOnlyList<WorkerCommand> Commands, IReadOnlyList<JobLease> LostJobs);

/// <summary>The states of a registered worker, as stored and shown.</summary>
public static class WorkerStates
{
    /// <summary>Claiming and running jobs.</summary>
    public const string Running = "running";
    /// <summary>Told to pause: claims nothing, running jobs go on.</summary>
    public const string Paused = "paused";
    /// <summary>Stopping: claims nothing, finishes what runs.</summary>
    public const string Draining = "draining";
    /// <summary>Deregistered.</summary>
    public const string Stopped = "stopped";
    /// <summary>Silent past the dead-worker timeout: presumed crashed or cut off; its jobs were released.</summary>
    public const string Dead = "dead";

    /// <summary>Running, paused or draining: listed by default (stopped and dead ones only on request), and
    /// declared dead when silent.</summary>
    public static bool IsLive(string state) => state is Running or Paused or Draining;

    /// <summary>SQL list of the live states (<see cref="IsLive"/>).</summary>
    internal const string LiveSql = "('running', 'paused', 'draining')";

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
    internal const string SeenSql = "CASE WHEN workers.state IN ('paused', 'draining') THEN workers.state ELSE 'running' END";

    /// <summary>SQL for a command's <see cref="After"/> state (@state): a draining worker stays draining, a stopped or
    /// dead one is not revived.</summary>
    internal const string CommandSql = "UPDATE workers SET state = @state WHERE id = @id AND state IN ('running', 'paused')";

    /// <summary>SQL condition of every claim: nothing for a worker (@worker) told to pause or drain.</summary>
    internal const string ClaimsSql = "NOT EXISTS (SELECT 1 FROM workers WHERE id = @worker AND state IN ('paused', 'draining'))";
}

/// <summary>A worker as the registry holds it: what <c>workers list</c> shows.</summary>
public sealed record WorkerRecord
{
    /// <summary>What the worker said about itself when it registered.</summary>
    public required WorkerRegistration Registration { get; init; }
    /// <summary>One of <see cref="WorkerStates"/>.</summary>
    public required string State { get; init; }
    /// <summary>When the worker registered.</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>When the worker was last heard from (registration or heartbeat).</summary>
    public DateTimeOffset LastSeenAt { get; init; }
    /// <summary>Attempts the worker held at its last heartbeat.</summary>
    public int RunningJobs { get; init; }
    /// <summary>For a node: its worker processes as of its last heartbeat. Empty for a plain worker.</summary>
    public IReadOnlyList<ManagedWorkerInfo> Managed { get; init; } = [];
    /// <summary>The worker's id: <see cref="WorkerRegistration.Id"/>.</summary>
    public string Id => Registration.Id;
}

/// <summary>A control command for a worker (or a node).</summary>
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
    /// <summary>Stop the running job <see cref="WorkerCommand.JobId"/> without the cancel grace period: its token fires,
    /// its process tree is killed at once and the attempt ends cancelled without waiting for the handler.</summary>
    CancelJobNow,
}

/// <summary>A control command waiting for a worker; handed over by heartbeat or poll.</summary>
public sealed record WorkerCommand(WorkerCommandKind Kind, Guid? JobId);
