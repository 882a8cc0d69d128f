using System.Collections.Concurrent;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.TestSupport;
using Gantry.Worker.Coordination;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gantry.Worker.Tests.Coordination;

/// <summary>
/// The session a worker and a node keep with their coordinator, one single run at a time, on a real SQLite store that
/// reads a fake clock: leases renew and run out when the test moves the clock. The link passes everything to the
/// store, failing the calls a test tells it to; the owner records what the session asks of it.
/// </summary>
public sealed class CoordinatorSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private const string Id = "session-test";
    private readonly FakeTimeProvider _clock = TestClock.New();
    private readonly RecordingOwner _owner = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private TempSqliteStore _store = null!;
    private FaultyLink _link = null!;
    private CoordinatorSession _session = null!;

    private CancellationToken Ct => _timeout.Token;
    private IJobStore Store => _store.Store;

    public async Task InitializeAsync()
    {
        _store = await TempSqliteStore.CreateAsync(_clock);
        _link = new FaultyLink(new StoreWorkerLink(Store));
        _session = new CoordinatorSession(_link, new SessionOptions
        {
            Id = Id, LeaseDuration = Lease, HeartbeatInterval = TimeSpan.FromSeconds(5),
            CommandPollInterval = TimeSpan.FromMilliseconds(250), GuardedLease = Lease,
        }, NullLogger.Instance, _clock);
        _session.Attach(_owner);
    }

    public async Task DisposeAsync()
    {
        _session.Dispose();
        await _store.DisposeAsync();
        _timeout.Dispose();
    }

    private async Task<ClaimedJob> RegisterAndClaimAsync()
    {
        await _session.RegisterAsync(StoreTestExtensions.Worker(Id), Ct);
        await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        return Assert.Single(await _session.ClaimAsync(new JobClaimParams(Id, [new QueueDemand("default", 1)], Lease, [], null), mayWait: false, Ct));
    }

    private static JobLease LeaseOf(ClaimedJob job) => new(job.Id, job.Attempt);

    [Fact]
    public async Task Register_CoordinatorDown_WaitedForWithBackoff_ThenRegistered()
    {
        _link.FailNext("register", 2);

        var registering = _session.RegisterAsync(StoreTestExtensions.Worker(Id), Ct);
        Assert.True(await FakeClockExtensions.StillWaitingAsync(registering));
        Assert.False(_session.IsRegistered);
        await _clock.AdvanceUntilAsync(registering, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));

        Assert.True(_session.IsRegistered);
        Assert.Equal(3, _link.Calls("register"));
        Assert.Contains(await Store.WorkerListAsync(Ct), w => w.Registration.Id == Id && w.State == WorkerStates.Running);
    }

    [Fact]
    public async Task Heartbeat_CarriesHeldAttemptsAndClaims_RenewsTheirLeases()
    {
        var job = await RegisterAndClaimAsync();
        Assert.True(_session.Held.Holds(LeaseOf(job)));

        _clock.Advance(TimeSpan.FromSeconds(20));
        await _session.HeartbeatAsync(Ct);

        var sent = Assert.Single(_link.Heartbeats);
        Assert.Equal([LeaseOf(job)], sent.Jobs);
        Assert.Equal(job.ClaimId == 0 ? Array.Empty<long>() : new[] { job.ClaimId }, sent.Claims ?? Array.Empty<long>());
        Assert.Empty(_session.Held.Snapshot().Claims); // named once, then known to the store
        Assert.Equal(_clock.GetUtcNow() + Lease, (await Store.GetAsync(job.Id, Ct)).LeaseUntil);
        Assert.True(_session.HeartbeatAge < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Command_CancelOfARunningJob_AppliedThroughTheOwner()
    {
        var job = await RegisterAndClaimAsync();

        await Store.JobCancelAsync(job.Id, now: true, Ct);
        await _session.TakeCommandsAsync(Ct);

        Assert.Equal(new[] { (job.Id, true) }, _owner.Cancels);
    }

    [Fact]
    public async Task Heartbeat_CommandsThatCameWithIt_AppliedThroughTheOwner()
    {
        await _session.RegisterAsync(StoreTestExtensions.Worker(Id), Ct);
        await Store.WorkerCommandSendAsync(Id, WorkerCommandKind.Pause, Ct);
        await Store.WorkerCommandSendAsync(Id, WorkerCommandKind.Drain, Ct);

        await _session.HeartbeatAsync(Ct);

        Assert.Equal(new[] { "pause", "drain" }, _owner.Commands);
    }

    [Fact]
    public async Task Heartbeat_AttemptNoLongerOurs_ReleasedAndStoppedByTheOwner()
    {
        var job = await RegisterAndClaimAsync();
        // Finished by another path: the store will not renew this attempt's lease.
        await Store.JobReportManyAsync([new JobSucceededReport(job.Id, job.Attempt, Id, null)], Ct);

        await _session.HeartbeatAsync(Ct);

        Assert.Equal(new[] { LeaseOf(job) }, _owner.Lost);
        Assert.Equal(0, _session.Held.Count);
    }

    [Fact]
    public async Task Outcome_HeldUntilWritten_EvenWhileItsWriteFailsAndIsRetried()
    {
        var job = await RegisterAndClaimAsync();
        _session.Reports.Start(Ct);
        _link.FailNext("report", 2);

        _session.Reports.Add(new JobSucceededReport(job.Id, job.Attempt, Id, "{}"));
        await Eventually.TrueAsync(() => _link.Calls("report") == 1, "the first write");

        // Not written yet: still held, so the heartbeat keeps its lease.
        Assert.True(_session.Held.Holds(LeaseOf(job)));
        await _session.HeartbeatAsync(Ct);
        Assert.Equal([LeaseOf(job)], _link.Heartbeats.Last().Jobs);

        // Retried after its backoff on the clock; written at the third try, then no longer held.
        var written = Eventually.TrueAsync(() => _session.Held.Count == 0, "the outcome to be written");
        await _clock.AdvanceUntilAsync(written, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5));
        Assert.Equal(3, _link.Calls("report"));
        Assert.Equal(JobState.Succeeded, (await Store.GetAsync(job.Id, Ct)).State);
    }

    [Fact]
    public async Task ReportsTheCoordinatorRefuses_Isolated_TheRestWritten_ARefusedOutcomeEndsItsJobDead()
    {
        await _session.RegisterAsync(StoreTestExtensions.Worker(Id), Ct);
        for (var i = 0; i < 3; i++) await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        var jobs = await _session.ClaimAsync(new JobClaimParams(Id, [new QueueDemand("default", 3)], Lease, [], null), mayWait: false, Ct);
        Assert.Equal(3, jobs.Count);
        _link.Refuse = r => r is JobSucceededReport { Result: "\"poison\"" } or JobProgressReport { Message: "poison" };

        // One batch: the refusal of any of its reports used to hold all of them, sent again and again.
        var written = new[]
        {
            _session.Reports.AddAndWaitAsync(new JobSucceededReport(jobs[0].Id, jobs[0].Attempt, Id, "1")),
            _session.Reports.AddAndWaitAsync(new JobSucceededReport(jobs[1].Id, jobs[1].Attempt, Id, "\"poison\"")),
            _session.Reports.AddAndWaitAsync(new JobProgressReport(jobs[2].Id, jobs[2].Attempt, Id, 50, "poison")),
            _session.Reports.AddAndWaitAsync(new JobSucceededReport(jobs[2].Id, jobs[2].Attempt, Id, "3")),
        };
        _session.Reports.Start(Ct);

        var applied = await Task.WhenAll(written);
        Assert.Equal(new[] { true, true, false, true }, applied);
        Assert.Equal((JobState.Succeeded, "1"), ((await Store.GetAsync(jobs[0].Id, Ct)).State, (await Store.GetAsync(jobs[0].Id, Ct)).Result));
        var dead = await Store.GetAsync(jobs[1].Id, Ct);
        Assert.Equal(JobState.Dead, dead.State);
        Assert.StartsWith("the coordinator refused the attempt's outcome: refused api/v1/worker/report (400)", Assert.Single(dead.Errors).Error.Message, StringComparison.Ordinal);
        Assert.Equal((JobState.Succeeded, "3"), ((await Store.GetAsync(jobs[2].Id, Ct)).State, (await Store.GetAsync(jobs[2].Id, Ct)).Result));
        Assert.Equal(0, _session.Held.Count);
    }

    [Fact]
    public async Task Reregistration_LostToAFailedCall_SentAgainAtTheNextHeartbeat_WhichGoesOnMeanwhile()
    {
        await _session.RegisterAsync(StoreTestExtensions.Worker(Id), Ct);
        _owner.NextRegistration = StoreTestExtensions.Worker(Id) with { Capacity = 8 };
        _link.FailNext("register", 1);

        await _session.HeartbeatAsync(Ct);
        Assert.Single(_link.Heartbeats); // the heartbeat was not skipped
        Assert.Equal(4, (await Store.WorkerListAsync(Ct)).Single(w => w.Registration.Id == Id).Registration.Capacity);

        await _session.HeartbeatAsync(Ct); // the owner has nothing new: the lost registration is sent again
        Assert.Equal(3, _link.Calls("register"));
        Assert.Equal(8, (await Store.WorkerListAsync(Ct)).Single(w => w.Registration.Id == Id).Registration.Capacity);

        await _session.HeartbeatAsync(Ct);
        Assert.Equal(3, _link.Calls("register")); // once sent, not again
    }

    [Fact]
    public async Task GuardLeases_UnrenewedUntilTheMargin_OwnerStopsItsAttempts_NoLongerHeld()
    {
        var job = await RegisterAndClaimAsync();
        _owner.Running.Add(LeaseOf(job));

        _clock.Advance(Lease - LeaseGuard.Margin - TimeSpan.FromSeconds(1));
        _session.GuardLeases();
        Assert.Empty(_owner.StoppedUnrenewed);

        _clock.Advance(TimeSpan.FromSeconds(1));
        _session.GuardLeases();
        Assert.Equal([LeaseOf(job)], _owner.StoppedUnrenewed);
        Assert.Equal(0, _session.Held.Count);
    }

    /// <summary>Records what the session asks of it.</summary>
    private sealed class RecordingOwner : ISessionOwner
    {
        public ConcurrentQueue<string> Commands { get; } = new();
        public ConcurrentQueue<(Guid, bool)> Cancels { get; } = new();
        public ConcurrentQueue<JobLease> Lost { get; } = new();
        public List<JobLease> Running { get; } = [];
        public List<JobLease> StoppedUnrenewed { get; } = [];
        public WorkerRegistration? NextRegistration { get; set; }

        public void Pause() => Commands.Enqueue("pause");
        public void Resume() => Commands.Enqueue("resume");
        public void Drain() => Commands.Enqueue("drain");
        public void Shutdown() => Commands.Enqueue("shutdown");
        public void Cancel(Guid jobId, bool now) => Cancels.Enqueue((jobId, now));
        public void Lose(JobLease attempt) => Lost.Enqueue(attempt);

        public IReadOnlyCollection<JobLease> StopUnrenewed(TimeSpan unrenewed)
        {
            StoppedUnrenewed.AddRange(Running);
            Running.Clear();
            return StoppedUnrenewed;
        }

        public WorkerRegistration? Reregistration()
        {
            var next = NextRegistration;
            NextRegistration = null;
            return next;
        }

        public IReadOnlyList<ManagedWorkerInfo>? Managed() => null;
    }

    /// <summary>Passes every call to the store's link, failing the next ones of an operation as a store that is down would.</summary>
    private sealed class FaultyLink(IWorkerLink inner) : IWorkerLink
    {
        private readonly ConcurrentDictionary<string, int> _failing = new();

        /// <summary>A batch holding a report this matches is refused whole, as a server refuses a request (400).</summary>
        public Func<JobReport, bool>? Refuse { get; set; }
        private readonly ConcurrentDictionary<string, int> _calls = new();
        public ConcurrentQueue<WorkerHeartbeatParams> Heartbeats { get; } = new();

        public void FailNext(string operation, int times) => _failing[operation] = times;
        public int Calls(string operation) => _calls.GetValueOrDefault(operation);

        private Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
        {
            _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);
            var failing = false;
            _failing.AddOrUpdate(operation, 0, (_, n) => { failing = n > 0; return Math.Max(0, n - 1); });
            return failing ? Task.FromException<T>(new StoreUnavailableException($"{operation}: the store is down")) : call();
        }

        public string Description => inner.Description;
        public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) =>
            CallAsync("register", async () => { await inner.RegisterAsync(registration, ct); return true; });
        public Task DeregisterAsync(string workerId, CancellationToken ct) => inner.DeregisterAsync(workerId, ct);
        public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) => inner.ClaimAsync(p, mayWait, ct);
        public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForJobsAsync(timeout, ct);
        public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) =>
            CallAsync("report", () => Refuse is { } refuse && reports.Any(refuse)
                ? Task.FromException<IReadOnlyList<bool>>(new CoordinatorRefusedException("refused api/v1/worker/report (400): reports[0].result: too deep"))
                : inner.ReportAsync(reports, ct));
        public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct)
        {
            Heartbeats.Enqueue(p);
            return inner.HeartbeatAsync(p, ct);
        }
        public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => inner.TakeCommandsAsync(workerId, ct);
        public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForCommandsAsync(timeout, ct);
    }
}
