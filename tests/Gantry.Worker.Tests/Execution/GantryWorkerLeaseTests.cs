using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>What the worker's heartbeat names: every attempt until its outcome is written, and each claim taken in, once.</summary>
public sealed class GantryWorkerLeaseTests : WorkerTestBase
{
    private static WorkerOptions FastBeats() => Options() with { HeartbeatInterval = TimeSpan.FromMilliseconds(50) };

    [Fact]
    public async Task Heartbeat_OutcomeNotYetWritten_AttemptStillNamed()
    {
        var link = new WatchingLink(new StoreWorkerLink(Store));
        await CreateWorker(link, FastBeats()).StartAsync(Ct);
        var id = await EnqueueAsync("echo", "{}");
        await link.ReportHeld.Task.WaitAsync(Ct); // the handler returned; its outcome waits to be written

        var beat = await link.NextHeartbeatAsync(Ct);
        Assert.Contains(beat.Jobs, j => j.JobId == id);
        Assert.Equal(JobState.Running, (await GetAsync(id)).State);

        link.ReleaseReports.SetResult();
        await WaitForStateAsync(id, JobState.Succeeded);
        await link.NextHeartbeatAsync(Ct); // one that may have been taken before the write
        Assert.DoesNotContain((await link.NextHeartbeatAsync(Ct)).Jobs, j => j.JobId == id);
    }

    [Fact]
    public async Task Heartbeat_ClaimsTakenIn_EachNamedUntilAHeartbeatSucceeds()
    {
        var link = new WatchingLink(new StoreWorkerLink(Store), numberClaims: true) { FailHeartbeats = 1 };
        link.ReleaseReports.SetResult();
        await CreateWorker(link, FastBeats()).StartAsync(Ct);
        var id = await EnqueueAsync("echo", "{}");
        await WaitForStateAsync(id, JobState.Succeeded);
        for (var i = 0; i < 5; i++) await link.NextHeartbeatAsync(Ct);

        long claim;
        lock (link.ClaimsGiven) claim = Assert.Single(link.ClaimsGiven);
        var beats = link.HeartbeatsSeen();
        var naming = beats.Select((h, i) => (h, i)).Where(x => x.h.Claims?.Contains(claim) == true).Select(x => x.i).ToArray();
        Assert.Equal(2, naming.Length); // the first answer was lost, so it is named once more, then never again
        Assert.Equal(naming[0] + 1, naming[1]);
        Assert.All(beats.Skip(naming[1] + 1), h => Assert.Empty(h.Claims ?? []));
    }

    /// <summary>The store link, with reports held back until released, heartbeats recorded (the first few failing if asked) and, if asked, claims numbered as a store that keeps claim records would.</summary>
    private sealed class WatchingLink(IWorkerLink inner, bool numberClaims = false) : IWorkerLink
    {
        private long _nextClaim = 100;
        private readonly object _lock = new();
        private TaskCompletionSource<WorkerHeartbeatParams> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReportHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource ReleaseReports { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<WorkerHeartbeatParams> _heartbeats = [];
        public List<long> ClaimsGiven { get; } = [];
        public int FailHeartbeats { get; set; }

        public string Description => inner.Description;
        public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => inner.RegisterAsync(registration, ct);
        public Task DeregisterAsync(string workerId, CancellationToken ct) => inner.DeregisterAsync(workerId, ct);

        public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct)
        {
            var jobs = await inner.ClaimAsync(p, mayWait, ct);
            if (!numberClaims || jobs.Count == 0) return jobs;
            var claim = Interlocked.Increment(ref _nextClaim);
            lock (ClaimsGiven) ClaimsGiven.Add(claim);
            return jobs.Select(j => j with { ClaimId = claim }).ToArray();
        }

        public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForJobsAsync(timeout, ct);

        public async Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
        {
            if (reports.Any(r => r.EndsAttempt))
            {
                ReportHeld.TrySetResult();
                await ReleaseReports.Task.WaitAsync(ct);
            }
            return await inner.ReportAsync(reports, ct);
        }

        public async Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct)
        {
            TaskCompletionSource<WorkerHeartbeatParams> next;
            lock (_lock)
            {
                _heartbeats.Add(p);
                next = _next;
                _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            if (p.Claims is { Count: > 0 } && FailHeartbeats-- > 0)
            {
                next.TrySetResult(p);
                throw new IOException("the heartbeat's answer was lost");
            }
            var result = await inner.HeartbeatAsync(p, ct);
            next.TrySetResult(p);
            return result;
        }

        public List<WorkerHeartbeatParams> HeartbeatsSeen()
        {
            lock (_lock) return [.. _heartbeats];
        }

        /// <summary>The next heartbeat sent after this call.</summary>
        public Task<WorkerHeartbeatParams> NextHeartbeatAsync(CancellationToken ct)
        {
            lock (_lock) return _next.Task.WaitAsync(ct);
        }

        public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => inner.TakeCommandsAsync(workerId, ct);
        public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForCommandsAsync(timeout, ct);
    }
}
