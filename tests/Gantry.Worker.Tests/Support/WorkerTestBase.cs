using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Gantry.Worker.Execution;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Worker.Tests.Support;

/// <summary>
/// One test's world: a fresh SQLite file, the built-in and test handlers, workers on the store
/// link and, when asked, the scheduler. Waits poll the store with a generous deadline, so a
/// loaded machine makes tests slower, never red.
/// </summary>
public abstract class WorkerTestBase : IAsyncLifetime
{
    static WorkerTestBase()
    {
        // Some tests block pool threads on purpose (handlers that never yield) and every SQLite call is
        // synchronous; on a 2-core machine the pool would add threads only slowly and stall the rest.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
    }

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gantry-worker-tests", Guid.NewGuid().ToString("N"));
    private readonly List<GantryWorker> _workers = [];
    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(90));
    private JobScheduler? _scheduler;
    private ServiceProvider? _services;

    internal Probe Probe { get; } = new();

    internal SqliteJobStore Store { get; private set; } = null!;

    /// <summary>Fires if the test hangs.</summary>
    protected CancellationToken Ct => _testTimeout.Token;

    /// <summary>Options with short intervals, for a worker serving only the default queue.</summary>
    protected static WorkerOptions Options(int concurrency = 4) => new()
    {
        WorkerId = $"test-{Guid.NewGuid():N}",
        Queues = new Dictionary<string, int> { ["default"] = concurrency },
        PollInterval = TimeSpan.FromMilliseconds(50),
        CommandPollInterval = TimeSpan.FromMilliseconds(100),
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        LeaseDuration = TimeSpan.FromSeconds(30),
        CancelGracePeriod = TimeSpan.FromSeconds(1),
        DrainTimeout = TimeSpan.FromSeconds(5),
        ProgressInterval = TimeSpan.FromMilliseconds(50),
    };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        Store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dir, "gantry.db") }, Ct);
        var services = new ServiceCollection();
        ConfigureServices(services);
        _services = services
            .AddSingleton(Probe)
            .AddGantryBuiltInHandlers()
            .AddGantryHandler<BlockHandler>(TestJobTypes.Block)
            .AddGantryHandler<IgnoreTokenHandler>(TestJobTypes.Ignore)
            .AddGantryHandler<IgnoreTokenThenThrowHandler>(TestJobTypes.IgnoreThenThrow)
            .AddGantryHandler<StuckThreadHandler>(TestJobTypes.StuckThread)
            .AddGantryHandler<CountHandler>(TestJobTypes.Count)
            .AddGantryHandler<ThrowHandler>(TestJobTypes.Throw)
            .AddGantryHandler<ProgressHandler>(TestJobTypes.Progress)
            .BuildServiceProvider();
    }

    /// <summary>Adds handlers of a test class's own.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>The handlers every test worker has.</summary>
    internal IServiceProvider Services => _services!;

    /// <summary>The test's own directory (deleted afterwards).</summary>
    protected string Dir => _dir;

    public async Task DisposeAsync()
    {
        Probe.ReleaseAll();
        foreach (var worker in _workers) await worker.StopAsync(CancellationToken.None);
        if (_scheduler is not null)
        {
            await _scheduler.StopAsync(CancellationToken.None);
            _scheduler.Dispose();
        }
        await Store.DisposeAsync();
        if (_services is not null) await _services.DisposeAsync();
        _testTimeout.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A worker on the store link; stopped with the test if the test does not stop it.</summary>
    /// <summary>
    /// Runs <paramref name="run"/> once over each link a worker can have, in turn: the store, the HTTP worker protocol of a
    /// server on this store, and the IPC socket of a node on it that knows <paramref name="nodeTypes"/>.
    /// </summary>
    internal async Task OverEveryLinkAsync(string[] nodeTypes, Func<string, IWorkerLink, Task> run)
    {
        await run("store", new StoreWorkerLink(Store));

        await using var server = await TestServer.StartAsync(Store, Ct);
        using var http = new HttpWorkerLink(server.Url(), token: null);
        await run("http", http);

        await using var node = StandInNode.Start(Store, Dir, nodeTypes, Ct);
        await using var ipc = await IpcWorkerLink.ConnectAsync(node.SocketPath, localId: 1, Ct);
        await run("ipc", ipc);
    }

    internal GantryWorker CreateWorker(WorkerOptions? options = null) => CreateWorker(new StoreWorkerLink(Store), options);

    /// <summary>A worker on a link of the test's own; stopped with the test.</summary>
    internal GantryWorker CreateWorker(IWorkerLink link, WorkerOptions? options = null)
    {
        var worker = new GantryWorker(link, options ?? Options(), _services!);
        _workers.Add(worker);
        return worker;
    }

    internal async Task<GantryWorker> StartWorkerAsync(WorkerOptions? options = null)
    {
        var worker = CreateWorker(options);
        await worker.StartAsync(Ct);
        return worker;
    }

    /// <summary>
    /// Starts the scheduler that promotes delayed and backed-off jobs, as the coordinator would. Its
    /// interval is long on purpose: it must wake for the next due job, not find it by polling.
    /// </summary>
    protected async Task StartSchedulerAsync()
    {
        _scheduler = new JobScheduler(Store, new MaintenanceOptions { SchedulerInterval = TimeSpan.FromMinutes(1) },
            NullLogger<JobScheduler>.Instance, TimeProvider.System);
        await _scheduler.StartAsync(Ct);
    }

    internal static NewJob Job(string type, string payload = "{}", string queue = "default") =>
        new() { Id = JobIds.New(), Type = type, Payload = payload, Queue = queue };

    internal async Task<Guid> EnqueueAsync(NewJob job) =>
        Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([job]), Ct)).Id;

    internal Task<Guid> EnqueueAsync(string type, string payload = "{}") => EnqueueAsync(Job(type, payload));

    internal async Task<JobRecord> GetAsync(Guid id) =>
        await Store.JobGetAsync(id, Ct) ?? throw new Xunit.Sdk.XunitException($"job {id} is not in the store");

    /// <summary>Polls the store until the job satisfies <paramref name="until"/>; fails after <see cref="Probe.Deadline"/>.</summary>
    internal async Task<JobRecord> WaitForAsync(Guid id, Func<JobRecord, bool> until, string what)
    {
        var deadline = DateTimeOffset.UtcNow + Probe.Deadline;
        while (true)
        {
            var job = await GetAsync(id);
            if (until(job)) return job;
            if (DateTimeOffset.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"job {id} did not become {what} within {Probe.Deadline.TotalSeconds}s; it is {job.State.ToText()} (attempt {job.Attempt})");
            await Task.Delay(25, Ct);
        }
    }

    internal Task<JobRecord> WaitForStateAsync(Guid id, JobState state) => WaitForAsync(id, j => j.State == state, state.ToText());
}
