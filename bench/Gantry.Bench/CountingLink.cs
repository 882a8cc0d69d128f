using System.Diagnostics;
using Gantry.Storage;
using Gantry.Worker.Links;

namespace Gantry.Bench;

/// <summary>Passes everything through, noting when the N-th success (since the last <see cref="Expect"/>) has been committed.</summary>
/// <param name="succeeded">Told of each success once it has been committed: the job and when (a <see cref="Stopwatch"/> timestamp).</param>
internal sealed class CountingLink(IWorkerLink inner, int expected, Action<Guid, long>? succeeded = null) : IWorkerLink
{
    private TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _succeeded;

    public Task AllSucceeded => _all.Task;

    /// <summary>Starts counting again, toward <paramref name="count"/> successes (call while no job runs).</summary>
    public void Expect(int count)
    {
        expected = count;
        Volatile.Write(ref _succeeded, 0);
        Volatile.Write(ref _claims, 0);
        Volatile.Write(ref _reports, 0);
        Interlocked.Exchange(ref _claimTicks, 0);
        Interlocked.Exchange(ref _reportTicks, 0);
        Interlocked.Exchange(ref _firstClaimAt, 0);
        _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public long LastSuccessAt { get; private set; }

    /// <summary>Claim calls that returned jobs, and report calls, since the last <see cref="Expect"/>.</summary>
    public int Claims => Volatile.Read(ref _claims);
    public int ReportCalls => Volatile.Read(ref _reports);
    /// <summary>Time spent inside claim and report calls (summed over concurrent calls), since the last <see cref="Expect"/>.</summary>
    public TimeSpan ClaimTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _claimTicks));
    public TimeSpan ReportTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _reportTicks));
    private int _claims, _reports;
    private long _claimTicks, _reportTicks, _firstClaimAt;

    /// <summary>When the first claim that returned jobs (since the last <see cref="Expect"/>) returned; 0 before.</summary>
    public long FirstClaimAt => Interlocked.Read(ref _firstClaimAt);
    public string Description => inner.Description;

    public async Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var applied = await inner.ReportAsync(reports, ct).ConfigureAwait(false);
        Interlocked.Add(ref _reportTicks, Stopwatch.GetTimestamp() - started);
        Interlocked.Increment(ref _reports);
        var n = 0;
        var at = succeeded is null ? 0 : Stopwatch.GetTimestamp();
        for (var i = 0; i < reports.Count; i++)
            if (applied[i] && reports[i] is JobSucceededReport)
            {
                n++;
                succeeded?.Invoke(reports[i].JobId, at);
            }
        if (n > 0 && Interlocked.Add(ref _succeeded, n) >= expected && !_all.Task.IsCompleted)
        {
            LastSuccessAt = Stopwatch.GetTimestamp();
            _all.TrySetResult();
        }
        return applied;
    }

    public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => inner.RegisterAsync(registration, ct);
    public Task DeregisterAsync(string workerId, CancellationToken ct) => inner.DeregisterAsync(workerId, ct);
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var jobs = await inner.ClaimAsync(p, mayWait, ct).ConfigureAwait(false);
        if (jobs.Count > 0)
        {
            Interlocked.CompareExchange(ref _firstClaimAt, Stopwatch.GetTimestamp(), 0);
            Interlocked.Add(ref _claimTicks, Stopwatch.GetTimestamp() - started);
            Interlocked.Increment(ref _claims);
        }
        return jobs;
    }
    public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForJobsAsync(timeout, ct);
    public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => inner.HeartbeatAsync(p, ct);
    public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => inner.TakeCommandsAsync(workerId, ct);
    public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForCommandsAsync(timeout, ct);
}
