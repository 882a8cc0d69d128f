using Gantry.Storage;

namespace Gantry.Worker.Links;

/// <summary>A worker that talks to the store directly (the embedded and distributed shapes).</summary>
public sealed class StoreWorkerLink(IJobStore store) : IWorkerLink
{
    // Cursors, not the signals' own auto-reset wait: another waiter in this process (the API's long polls, a node's
    // other workers) must not take this worker's wake-up, since with notifications it may otherwise sleep for seconds.
    private readonly SignalCursor _jobs = store.Signals.JobsAvailable.Cursor();
    private readonly SignalCursor _commands = store.Signals.CommandsAvailable.Cursor();

    /// <inheritdoc/>
    public string Description => store.Description;

    /// <inheritdoc/>
    public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => store.WorkerRegisterAsync(registration, ct);
    /// <inheritdoc/>
    public Task DeregisterAsync(string workerId, CancellationToken ct) => store.WorkerDeregisterAsync(workerId, ct);
    /// <inheritdoc/>
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) => store.JobClaimAsync(p, ct);
    /// <inheritdoc/>
    public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => _jobs.WaitAsync(store.Signals.PollFor(timeout), ct);
    /// <inheritdoc/>
    public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) => store.JobReportManyAsync(reports, ct);
    /// <inheritdoc/>
    public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => store.WorkerHeartbeatAsync(p, ct);
    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => store.WorkerCommandsTakeAsync(workerId, ct);
    /// <inheritdoc/>
    public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => _commands.WaitAsync(store.Signals.PollFor(timeout), ct);
}
