using Gantry.Storage;

namespace Gantry.Worker.Coordination;

/// <summary>
/// The attempts a worker (or a node, for all its workers) holds, as its heartbeat tells the store:
/// from the moment a claim returns them until their outcome is written, or the store says they are
/// lost. An attempt whose outcome waits in a report batch is still held: were it dropped, a crash
/// before the write would leave it running with no lease at all. With them go the claims taken in
/// since the last heartbeat, which the store may then forget (every job they gave is held or
/// finished); a claim whose answer never arrived is never named, so its jobs stay leased by the
/// claim alone and are rescued when it expires. Thread-safe.
/// </summary>
internal sealed class HeldJobs
{
    private readonly object _lock = new();
    private readonly HashSet<(Guid Job, int Attempt)> _held = []; // value tuples: no allocation per job
    private readonly HashSet<long> _claims = [];

    public int Count
    {
        get { lock (_lock) return _held.Count; }
    }

    /// <summary>A claim returned these jobs: held from now on, and their claim taken in.</summary>
    public void Claimed(IReadOnlyList<ClaimedJob> jobs)
    {
        if (jobs.Count == 0) return;
        lock (_lock)
        {
            foreach (var job in jobs)
            {
                _held.Add((job.Id, job.Attempt));
                if (job.ClaimId != 0) _claims.Add(job.ClaimId);
            }
        }
    }

    /// <summary>These reports were written (applied or found stale): the attempts they end are no longer held.</summary>
    public void Written(IReadOnlyList<JobReport> reports)
    {
        lock (_lock)
            foreach (var report in reports)
                if (report.EndsAttempt) _held.Remove((report.JobId, report.Attempt));
    }

    /// <summary>The attempt is no longer this worker's (the store took it back, or it never reached a slot and needs no report).</summary>
    public void Release(JobLease lease)
    {
        lock (_lock) _held.Remove((lease.JobId, lease.Attempt));
    }

    public bool Holds(JobLease lease)
    {
        lock (_lock) return _held.Contains((lease.JobId, lease.Attempt));
    }

    /// <summary>What the next heartbeat sends: the held attempts and the claims taken in, read together.</summary>
    public (JobLease[] Jobs, long[] Claims) Snapshot()
    {
        lock (_lock) return ([.. _held.Select(h => new JobLease(h.Job, h.Attempt))], [.. _claims]);
    }

    /// <summary>A heartbeat naming <paramref name="claims"/> succeeded: the store no longer needs them named.</summary>
    public void Confirmed(IReadOnlyList<long> claims)
    {
        if (claims.Count == 0) return;
        lock (_lock)
            foreach (var claim in claims) _claims.Remove(claim);
    }
}
