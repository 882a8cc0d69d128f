using Gantry.Storage;

namespace Gantry.Worker.Links;

/// <summary>A worker that talks to the store directly (the embedded and distributed shapes).</summary>
public sealed class StoreWorkerLink(IJobStore store) : IWorkerLink
{
    public string Description => store.Description;

    public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => store.WorkerRegisterAsync(registration, ct);
    public Task DeregisterAsync(string workerId, CancellationToken ct) => store.WorkerDeregisterAsync(workerId, ct);
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) => store.JobClaimAsync(p, ct);
    public Task WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => store.Signals.JobsAvailable.WaitAsync(timeout, ct);
    public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) => store.JobReportManyAsync(reports, ct);
    public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => store.WorkerHeartbeatAsync(p, ct);
    public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => store.WorkerCommandsTakeAsync(workerId, ct);
    public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => store.Signals.CommandsAvailable.WaitAsync(timeout, ct);
}
