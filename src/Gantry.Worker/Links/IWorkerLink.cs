using Gantry.Storage;

namespace Gantry.Worker.Links;

/// <summary>
/// A worker's only way to reach the coordinator. The runtime is the same for every link; a link
/// to the store is direct, others go over HTTP (<see cref="HttpWorkerLink"/>) or a node's IPC socket (<see cref="IpcWorkerLink"/>).
/// </summary>
public interface IWorkerLink
{
    /// <summary>Where the link goes, for people.</summary>
    string Description { get; }

    /// <summary>Registers the worker (its queues, capacity, job types) with the coordinator; registering again replaces the registration.</summary>
    Task RegisterAsync(WorkerRegistration registration, CancellationToken ct);
    /// <summary>Removes the worker from the registry as it stops.</summary>
    Task DeregisterAsync(string workerId, CancellationToken ct);
    /// <summary>Claims jobs. With <paramref name="mayWait"/>, a link whose coordinator can hold a claim open until work
    /// comes (the server's long poll) may do so when there is none; otherwise the claim answers at once, and the
    /// worker waits with <see cref="WaitForJobsAsync"/>. A worker with a full queue never lets a claim wait: its
    /// slots free up soon, and the claim must not be parked on its other, empty queues meanwhile.</summary>
    Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct);

    /// <summary>Waits until new jobs may be claimable or <paramref name="timeout"/> passes; true when woken by a sign of
    /// new work. A link whose coordinator tells it of every new job (PostgreSQL's notifications) may wait longer than
    /// <paramref name="timeout"/> (<see cref="StoreSignals.PollFor"/>).</summary>
    Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct);

    /// <summary>Writes a batch of reports; one answer per report, in order: false when the fence refused it (the attempt is no longer this worker's).</summary>
    Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct);
    /// <summary>Renews the leases of the attempts the worker holds; the answer names those it lost and, for some links, pending commands.</summary>
    Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct);
    /// <summary>Takes the control commands (cancel, pause, resume, drain) queued for <paramref name="workerId"/>; each is handed over once.</summary>
    Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct);

    /// <summary>Waits until commands may be pending or <paramref name="timeout"/> passes.</summary>
    Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct);

    /// <summary>An attempt's handler is starting. Only a node's link cares (a crash fails started attempts and
    /// requeues the others); it must return at once.</summary>
    void JobStarted(JobLease attempt) { }
}
