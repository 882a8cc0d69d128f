using Gantry.Storage;

namespace Gantry.Worker.Coordination;

/// <summary>
/// What a <see cref="CoordinatorSession"/> needs of the worker or node it speaks for: how to apply the coordinator's
/// commands, how to stop attempts that are no longer its own, and what to register again when that changes.
/// Each member is called from one of the session's loops and must return at once.
/// </summary>
internal interface ISessionOwner
{
    /// <summary>Claim nothing until resumed.</summary>
    void Pause();

    /// <summary>Claim again; for a node, also the operator's "try again" for workers that failed.</summary>
    void Resume();

    /// <summary>Stop claiming, let running jobs finish (up to the drain timeout), then stop.</summary>
    void Drain();

    /// <summary>Stop claiming, give running jobs back at once, then stop.</summary>
    void Shutdown();

    /// <summary>A user cancelled the job; <paramref name="now"/>: without the cancel grace period.</summary>
    void Cancel(Guid jobId, bool now);

    /// <summary>The coordinator says the attempt is no longer this owner's (rescued, cancelled, finished elsewhere):
    /// stop it without reporting. The session no longer holds it.</summary>
    void Lose(JobLease attempt);

    /// <summary>
    /// The leases have not been renewed for <paramref name="unrenewed"/> and are about to run out: stop every attempt
    /// without reporting, before the coordinator may give it to another worker. Returns the attempts stopped, which
    /// the session then no longer holds.
    /// </summary>
    IReadOnlyCollection<JobLease> StopUnrenewed(TimeSpan unrenewed);

    /// <summary>What to register again because what the owner offers changed since it last said (a node whose live
    /// workers changed), or null.</summary>
    WorkerRegistration? Reregistration();

    /// <summary>The processes the owner runs, named in each heartbeat (a node's workers), or null.</summary>
    IReadOnlyList<ManagedWorkerInfo>? Managed();
}
