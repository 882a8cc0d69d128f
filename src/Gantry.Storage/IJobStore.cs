using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Workflows;

namespace Gantry.Storage;

/// <summary>
/// Everything Gantry keeps, behind one contract that every backend implements and one contract
/// test suite exercises. Methods are named noun first and take one parameter record each.
/// Every state change is a conditional update built from <see cref="JobStateMachine"/>, and every
/// worker report is fenced by attempt and lease owner: a stale writer changes nothing.
/// Backend errors are translated at this seam into <see cref="GantryException"/>s.
/// <para>
/// Applications may call it (open a store with Gantry.Hosting and use it). Implementing it outside this repository
/// is not supported before 1.0: Gantry's own stores (SQLite, PostgreSQL) are its only implementations, and its
/// members, their parameter records and the contract they keep may change in any release, without notice.
/// </para>
/// </summary>
public interface IJobStore : IAsyncDisposable,
    IStoreMigrations, IStoreEnqueue, IStoreClaims, IStoreReports, IStoreJobQueries, IStoreCounts, IStoreControl, IStoreFlowLimits, IStoreWorkers, IStoreWorkflows, IStoreSchedules, IStoreMaintenance, IStoreLeadership, IStoreAuditLog
{
    /// <summary>Where the store lives, for people: <c>sqlite:/path/gantry.db</c>.</summary>
    string Description { get; }

    /// <summary>True when the backend wakes other processes on new work (PostgreSQL LISTEN/NOTIFY).</summary>
    bool SupportsCrossProcessNotifications { get; }

    /// <summary>Wake-ups raised by writes made through this instance.</summary>
    StoreSignals Signals { get; }

    /// <summary>Retries or cancels the jobs a filter matches, each through <see cref="IStoreControl.JobRetryAsync"/> or
    /// <see cref="IStoreControl.JobCancelAsync(Guid, CancellationToken)"/>; a dry run only counts them.</summary>
    Task<JobBulkResult> JobBulkAsync(JobBulkParams p, CancellationToken ct) => JobBulk.RunAsync(this, p, ct);
}
