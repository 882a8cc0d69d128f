using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

/// <summary>
/// The one contract every <see cref="IJobStore"/> must meet, run once per backend by deriving from
/// it. The tests see only <see cref="IJobStore"/>: no SQL, no backend types. Each test gets fresh,
/// empty backend state and a clock of its own (<see cref="Time"/>), so lease expiry and scheduling
/// are exact. The areas live in partial files: Enqueue, Claim, Reports, Control, Maintenance,
/// Workers, Queries.
/// </summary>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly List<IJobStore> _stores = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    /// <summary>The test's clock; only the test moves it.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>The store under test, on this test's own empty state.</summary>
    protected IJobStore Store { get; private set; } = null!;

    /// <summary>Cancels a test that hangs instead of failing.</summary>
    protected CancellationToken Ct => _timeout.Token;

    /// <summary>Opens a new store instance on this test's backend state (the same state on every call), reading <paramref name="time"/>.</summary>
    protected abstract Task<IJobStore> OpenStoreAsync(TimeProvider time, CancellationToken ct);

    /// <summary>Removes this test's backend state once every store is disposed.</summary>
    protected virtual Task DropStateAsync() => Task.CompletedTask;

    /// <summary>Another instance on the same state, as another process would open it; disposed with the test.</summary>
    protected async Task<IJobStore> OpenAnotherAsync()
    {
        var store = await OpenStoreAsync(Time, Ct);
        lock (_stores) _stores.Add(store);
        return store;
    }

    public async Task InitializeAsync() => Store = await OpenAnotherAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
        _timeout.Dispose();
        await DropStateAsync();
    }

    // ---- helpers ----------------------------------------------------------------------------

    protected static NewJob Job(string type = "test", string queue = "default") =>
        new() { Id = JobIds.New(), Type = type, Queue = queue };

    protected async Task<Guid> EnqueueAsync(NewJob job) =>
        Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([job]), Ct)).Id;

    protected async Task<Guid> EnqueueAsync(string type = "test", string queue = "default") => await EnqueueAsync(Job(type, queue));

    protected Task<IReadOnlyList<ClaimedJob>> ClaimAsync(
        string worker = "w1", int limit = 10, string queue = "default",
        IReadOnlyList<string>? capabilities = null, IReadOnlyList<string>? types = null, IJobStore? store = null) =>
        (store ?? Store).JobClaimAsync(new JobClaimParams(worker, [new QueueDemand(queue, limit)], Lease, capabilities ?? [], types), Ct);

    protected async Task<ClaimedJob> ClaimOneAsync(string worker = "w1", string queue = "default") =>
        Assert.Single(await ClaimAsync(worker, 1, queue));

    /// <summary>Enqueues a job and claims it, so it is running under <paramref name="worker"/>. No other job may be queued in its queue.</summary>
    protected async Task<ClaimedJob> RunningAsync(NewJob? job = null, string worker = "w1")
    {
        job ??= Job();
        await EnqueueAsync(job);
        var claimed = await ClaimOneAsync(worker, job.Queue);
        Assert.Equal(job.Id, claimed.Id);
        return claimed;
    }

    protected async Task<JobRecord> GetAsync(Guid id) =>
        await Store.JobGetAsync(id, Ct) ?? throw new Xunit.Sdk.XunitException($"job {id} is not in the store");

    protected async Task<bool> ReportAsync(JobReport report) => Assert.Single(await Store.JobReportManyAsync([report], Ct));

    protected Task<bool> SucceedAsync(ClaimedJob job, string? result = null) =>
        ReportAsync(new JobSucceededReport(job.Id, job.Attempt, job.WorkerId, result));

    protected Task<bool> FailAsync(ClaimedJob job, JobState next, DateTimeOffset? runAt = null, JobError? error = null) =>
        ReportAsync(new JobFailedReport(job.Id, job.Attempt, job.WorkerId, error ?? new JobError(JobErrorKinds.Exception, $"attempt {job.Attempt} failed"), next, runAt));

    /// <summary>What a report may change, comparable by value.</summary>
    protected static object Snapshot(JobRecord j) =>
        (j.State, j.Attempt, j.WorkerId, j.LeaseUntil, j.RunAt, j.FinishedAt, j.Progress, j.ProgressMessage, j.Result, j.CancelRequestedAt, j.Errors.Count);

    protected static WorkerRegistration Worker(string id, params string[] jobTypes) => new()
    {
        Id = id,
        Host = "test-host",
        ProcessId = 4242,
        Version = "1.0.0",
        Queues = new Dictionary<string, int> { ["default"] = 4 },
        Capacity = 4,
        JobTypes = jobTypes,
    };
}
