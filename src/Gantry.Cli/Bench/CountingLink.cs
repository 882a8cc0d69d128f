using System.Diagnostics;
using Gantry.Storage;
using Gantry.Worker.Links;

namespace Gantry.Cli.Bench;

/// <summary>Passes everything through, noting when the N-th success (since the last <see cref="Expect"/>) has been committed.</summary>
internal sealed class CountingLink(IWorkerLink inner, int expected) : IWorkerLink
{
    private TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _succeeded;

    public Task AllSucceeded => _all.Task;

    /// <summary>Starts counting again, toward <paramref name="count"/> successes (call while no job runs).</summary>
    public void Expect(int count)
    {
        expected = count;
        Volatile.Write(ref _succeeded, 0);
        _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public long LastSuccessAt { get; private set; }
    public string Description => inner.Description;

    public async Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
    {
        var applied = await inner.ReportAsync(reports, ct).ConfigureAwait(false);
        var n = 0;
        for (var i = 0; i < reports.Count; i++) if (applied[i] && reports[i] is JobSucceededReport) n++;
        if (n > 0 && Interlocked.Add(ref _succeeded, n) >= expected && !_all.Task.IsCompleted)
        {
            LastSuccessAt = Stopwatch.GetTimestamp();
            _all.TrySetResult();
        }
        return applied;
    }

    public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => inner.RegisterAsync(registration, ct);
    public Task DeregisterAsync(string workerId, CancellationToken ct) => inner.DeregisterAsync(workerId, ct);
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, CancellationToken ct) => inner.ClaimAsync(p, ct);
    public Task WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForJobsAsync(timeout, ct);
    public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => inner.HeartbeatAsync(p, ct);
    public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => inner.TakeCommandsAsync(workerId, ct);
    public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForCommandsAsync(timeout, ct);
}
