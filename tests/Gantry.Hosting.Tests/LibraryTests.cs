using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gantry.Hosting.Tests;

/// <summary>Gantry inside an application on an SQLite file: configuration, the client, transactions, drain and health.</summary>
public sealed class LibraryTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task AddGantry_FromConfiguration_TypedEnqueueRunsAndWaitReturnsTypedResult()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db")), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();

            var id = await jobs.EnqueueAsync<GreetHandler>(new Greet("Ada"), ct: Ct);
            var result = await jobs.WaitAsync<Greeting>(id, Ct);

            Assert.Equal("Hello, Ada!", result!.Text);
            var job = await jobs.GetAsync(id, Ct);
            Assert.Equal(("greet", JobState.Succeeded, 1), (job!.Type, job.State, job.Attempt));
            Assert.Equal("""{"name":"Ada"}""", job.Payload);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WaitAsync_OnSqlite_SeesTheEndWithinTensOfMillisecondsFromTheStoresSignal()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db")), b => b.AddWorker());
        try
        {
            var seen = await EndLatency.MeasureAsync(host.Services.GetRequiredService<IJobClient>(), Ct);
            output.WriteLine($"end seen {seen.TotalMilliseconds:0.0} ms after it happened");
            Assert.True(seen < TimeSpan.FromMilliseconds(500), $"the end was seen {seen.TotalMilliseconds:0} ms after it happened");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddWorker_NameFromConfiguration_RegisteredWithIt()
    {
        var host = await TestApp.StartAsync(new Dictionary<string, string?>(TestApp.Sqlite(_dir.File("app.db"))) { ["Worker:Name"] = "web-1" }, b => b.AddWorker());
        try
        {
            var workers = await host.Services.GetRequiredService<Storage.IJobStore>().WorkerListAsync(Ct);
            Assert.Equal("web-1", Assert.Single(workers).Registration.Name);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddSchedule_InCode_CreatedAtStartAndFiredByTheLeader_JobsTaggedWithTheSchedule()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db")),
            b => b.AddWorker().AddSchedule("every-second", "* * * * * *", "greet", new Greet("Cron")));
        try
        {
            var store = host.Services.GetRequiredService<IJobStore>();
            Assert.NotNull(await store.ScheduleGetAsync("every-second", Ct));
            IReadOnlyList<JobRecord> made;
            do
            {
                await Task.Delay(100, Ct);
                made = await store.JobListAsync(new JobListParams { Type = "greet", State = JobState.Succeeded }, Ct);
            } while (made.Count == 0);

            var job = made[0];
            Assert.Equal("every-second", job.Tags["schedule"]);
            Assert.True(DateTimeOffset.TryParse(job.Tags["fire_time"], out _), job.Tags["fire_time"]);
            Assert.Equal("""{"name":"Cron"}""", job.Payload);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WaitAsync_DeadAndCancelledJobs_TypedExceptionsCarryingTheJob()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db")), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var failing = await jobs.EnqueueAsync<AlwaysFailsHandler>(new Greet("Bob"), new JobOptions { MaxAttempts = 1 }, ct: Ct);
            var waiting = await jobs.EnqueueAsync("waits", new Greet("Cy"), new JobOptions { RunAt = DateTimeOffset.UtcNow.AddHours(1) }, ct: Ct);

            var failed = await Assert.ThrowsAsync<JobDeadException>(() => jobs.WaitAsync<Greeting>(failing, Ct));
            Assert.Equal(JobState.Dead, failed.Job.State);
            Assert.Contains("no greeting for Bob", failed.Message, StringComparison.Ordinal);

            await jobs.CancelAsync(waiting, Ct);
            var cancelled = await Assert.ThrowsAsync<JobCancelledException>(() => jobs.WaitAsync(waiting, Ct));
            Assert.Equal(waiting, cancelled.Job.Id);

            // Retried, it runs again (the worker may take it and fail it before the next read): dead once more, later.
            await jobs.RetryAsync(failing, Ct);
            var again = await Assert.ThrowsAsync<JobDeadException>(() => jobs.WaitAsync<Greeting>(failing, Ct));
            Assert.True(again.Job.FinishedAt > failed.Job.FinishedAt, $"finished {again.Job.FinishedAt:O}, first {failed.Job.FinishedAt:O}");
            await Assert.ThrowsAsync<JobNotFoundException>(() => jobs.WaitAsync(Guid.NewGuid(), Ct));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueAsync_BadJobs_RefusedByTheJobDocumentRules()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db"), worker: false));
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();

            var badQueue = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("greet", null, new JobOptions { Queue = "no spaces" }, ct: Ct));
            var unknown = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("nobody-handles-this", null, ct: Ct));
            var notRegistered = await Assert.ThrowsAsync<InvalidOperationException>(() => jobs.EnqueueAsync<LibraryTests>(null, ct: Ct));
            var farOff = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("greet", null, new JobOptions { Delay = TimeSpan.MaxValue }, ct: Ct));
            Assert.Equal("delay", farOff.Where);
            var later = await jobs.EnqueueAsync("nobody-handles-this", null, new JobOptions { AllowUnknownType = true }, ct: Ct);

            Assert.Equal("queue", badQueue.Where);
            Assert.Equal("type", unknown.Where);
            Assert.Contains("AddHandler<LibraryTests>", notRegistered.Message, StringComparison.Ordinal);
            Assert.Equal(JobState.Queued, (await jobs.GetAsync(later, Ct))!.State);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueAsync_FlowOptions_UniquenessWindowsAndConcurrencyKeyReachTheJob()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db"), worker: false));
        try
        {
            await FlowOptionsChecks.RunAsync(host.Services.GetRequiredService<IJobClient>(), _dir.File("app.db"), Ct);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueBatchAndWorkflow_AllRunThroughTheClient()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db")), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();

            var ids = await jobs.EnqueueBatchAsync([new JobRequest("greet", new Greet("A")), new JobRequest("greet", new Greet("B"), new JobOptions { Priority = 5 })], ct: Ct);
            var workflow = await jobs.EnqueueWorkflowAsync(new WorkflowRequest("greetings",
            [
                new WorkflowStepRequest("first", "greet", new Greet("one")),
                new WorkflowStepRequest("second", "greet", new Greet("two"), DependsOn: ["first"]),
            ]), Ct);

            Assert.Equal(2, ids.Count);
            Assert.Equal("Hello, B!", (await jobs.WaitAsync<Greeting>(ids[1], Ct))!.Text);
            Assert.Equal("Hello, two!", (await jobs.WaitAsync<Greeting>(workflow.Steps["second"], Ct))!.Text);
            Assert.Equal(workflow.Id, (await jobs.GetAsync(workflow.Steps["first"], Ct))!.WorkflowId);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddGantry_BadValues_StartFailsNamingEachKey()
    {
        var settings = TestApp.Sqlite(_dir.File("app.db"));
        settings["Worker:LeaseDuration"] = "thirty";
        settings["Worker:Queues:default"] = "0";
        settings["Worker:Queue"] = "typo";
        settings["Maintenance:RescuerInterval"] = "1ms";
        using var host = TestApp.Builder(settings, b => b.AddWorker()).Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("Gantry:Worker:LeaseDuration: 'thirty' is not a duration", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gantry:Worker:Queue: is not a Gantry setting", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gantry:Worker:Queues:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gantry:Maintenance:RescuerInterval:", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("app.db")));
    }

    /// <summary>Timers stop at about 24.8 days: a longer interval or timeout would fail when first armed, long after start.</summary>
    [Fact]
    public async Task AddGantry_SpansLongerThanATimerWaits_StartFailsNamingEachKey()
    {
        var settings = TestApp.Sqlite(_dir.File("app.db"));
        settings["Worker:DrainTimeout"] = "30d";
        settings["Maintenance:CleanerInterval"] = "25d";
        using var host = TestApp.Builder(settings, b => b.AddWorker()).Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("Gantry:Worker:DrainTimeout: must be at most 24 days, got 30 days", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gantry:Maintenance:CleanerInterval: must be at most 24 days, got 25 days", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("app.db")));

        settings = TestApp.Sqlite(_dir.File("app.db"));
        settings["Maintenance:Retention"] = "40000d";
        using var kept = TestApp.Builder(settings).Build();
        ex = await Assert.ThrowsAsync<OptionsValidationException>(() => kept.StartAsync(Ct));
        Assert.Contains("Gantry:Maintenance:Retention: must be between 0 and 100 years (36500 days), got 40000 days", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGantry_NoStoreNorServer_StartFailsNamingStore()
    {
        using var host = TestApp.Builder(new Dictionary<string, string?>()).Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("Gantry:Store: is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGantry_MigrateFalse_NewFileRefusedAndMigratedFileUsed()
    {
        var settings = TestApp.Sqlite(_dir.File("app.db"), worker: false);
        settings["Migrate"] = "false";
        using (var refused = TestApp.Builder(settings).Build())
        {
            var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => refused.StartAsync(Ct));
            Assert.Contains("app.db", ex.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(_dir.File("app.db")));
        }

        var migrating = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db"), worker: false));
        await migrating.StopAsync();
        var checking = await TestApp.StartAsync(settings);
        try
        {
            var id = await checking.Services.GetRequiredService<IJobClient>().EnqueueAsync("greet", new Greet("D"), ct: Ct);
            Assert.NotNull(await checking.Services.GetRequiredService<IJobStore>().JobGetAsync(id, Ct));
        }
        finally
        {
            await checking.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueAsync_InAppSqliteTransaction_CommitRunsItRollbackDropsIt()
    {
        var path = _dir.File("app.db");
        var host = await TestApp.StartAsync(TestApp.Sqlite(path), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            await using var c = new SqliteConnection($"Data Source={path}");
            await c.OpenAsync(Ct);
            await using (var create = c.CreateCommand())
            {
                create.CommandText = "CREATE TABLE orders (id INTEGER PRIMARY KEY, job TEXT)";
                await create.ExecuteNonQueryAsync(Ct);
            }

            Guid committed, rolledBack;
            await using (var tx = await c.BeginTransactionAsync(Ct))
            {
                committed = await jobs.EnqueueAsync<GreetHandler>(new Greet("Eve"), transaction: tx, ct: Ct);
                await InsertOrderAsync(c, tx, committed);
                await tx.CommitAsync(Ct);
            }
            await using (var tx = await c.BeginTransactionAsync(Ct))
            {
                rolledBack = await jobs.EnqueueAsync<GreetHandler>(new Greet("Mallory"), transaction: tx, ct: Ct);
                await InsertOrderAsync(c, tx, rolledBack);
                await tx.RollbackAsync(Ct);
            }

            Assert.Equal("Hello, Eve!", (await jobs.WaitAsync<Greeting>(committed, Ct))!.Text);
            Assert.Null(await jobs.GetAsync(rolledBack, Ct));
            await using var count = c.CreateCommand();
            count.CommandText = "SELECT count(*) FROM orders";
            Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task InsertOrderAsync(SqliteConnection c, System.Data.Common.DbTransaction tx, Guid job)
    {
        await using var insert = c.CreateCommand();
        insert.Transaction = (SqliteTransaction)tx;
        insert.CommandText = "INSERT INTO orders (job) VALUES (@job)";
        insert.Parameters.AddWithValue("@job", job.ToString());
        await insert.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task DrainCommand_StopsTheEmbeddedWorkerNotTheApplication_HealthDegraded()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db")), b =>
        {
            b.AddWorker();
            b.Services.AddGantryHealthChecks();
        });
        try
        {
            var health = host.Services.GetRequiredService<HealthCheckService>();
            var before = await health.CheckHealthAsync(Ct);
            Assert.Equal(HealthStatus.Healthy, before.Status);
            Assert.Equal(["gantry-store", "gantry-worker"], before.Entries.Keys.Order(StringComparer.Ordinal));

            var worker = host.Services.GetRequiredService<Gantry.Worker.Execution.GantryWorker>();
            await host.Services.GetRequiredService<IJobStore>().WorkerCommandSendAsync(worker.Id, WorkerCommandKind.Drain, Ct);
            var stopped = Task.Delay(TimeSpan.FromSeconds(20), Ct);
            while (worker.Status != "stopped" && !stopped.IsCompleted) await Task.Delay(50, Ct);

            Assert.Equal("stopped", worker.Status);
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            await Task.Delay(300, Ct);
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested);
            var after = await health.CheckHealthAsync(Ct);
            Assert.Equal(HealthStatus.Degraded, after.Status);
            Assert.Equal(HealthStatus.Healthy, after.Entries["gantry-store"].Status);
            // The application still enqueues.
            Assert.NotEqual(Guid.Empty, await host.Services.GetRequiredService<IJobClient>().EnqueueAsync("greet", new Greet("F"), ct: Ct));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task HealthChecks_StoreGone_Unhealthy()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db"), worker: false), b => b.Services.AddGantryHealthChecks());
        try
        {
            var health = host.Services.GetRequiredService<HealthCheckService>();
            Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(Ct)).Status);

            // Another file where the store was: not a Gantry store any more.
            SqliteConnection.ClearAllPools();
            File.Delete(_dir.File("app.db"));
            File.Delete(_dir.File("app.db-wal"));
            File.Delete(_dir.File("app.db-shm"));
            // A read the app's own services had under way when the pools were cleared returns its connection (to the
            // deleted file) to the pool afterwards: cleared again, the check opens the path anew.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            HealthStatus status;
            while ((status = (await health.CheckHealthAsync(Ct)).Entries["gantry-store"].Status) != HealthStatus.Unhealthy && DateTime.UtcNow < deadline)
            {
                SqliteConnection.ClearAllPools();
                await Task.Delay(50, Ct);
            }

            Assert.Equal(HealthStatus.Unhealthy, status);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddGantry_SqliteFileWithTheApplicationsTablesFirst_GantrysTablesGoBesideThem()
    {
        var path = _dir.File("app.db");
        await using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await c.OpenAsync(Ct);
            await using var create = c.CreateCommand();
            create.CommandText = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada')";
            await create.ExecuteNonQueryAsync(Ct);
        }

        var host = await TestApp.StartAsync(TestApp.Sqlite(path), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            Assert.Equal("Hello, Ada!", (await jobs.WaitAsync<Greeting>(await jobs.EnqueueAsync("greet", new Greet("Ada"), ct: Ct), Ct))!.Text);
            await using var c = new SqliteConnection($"Data Source={path};Pooling=False");
            await c.OpenAsync(Ct);
            await using var count = c.CreateCommand();
            count.CommandText = "SELECT count(*) FROM customers";
            Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData("waits")]
    [InlineData("deaf")]
    public async Task Stop_WithJobsRunning_EndsWithinTheShutdownTimeoutAndRequeuesThemUncounted(string type)
    {
        var settings = TestApp.Sqlite(_dir.File("app.db"));
        settings["Worker:DrainTimeout"] = "1m";
        var builder = TestApp.Builder(settings, b => b.AddWorker());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(6));
        var host = builder.Build();
        await host.StartAsync(Ct);
        var jobs = host.Services.GetRequiredService<IJobClient>();
        var id = await jobs.EnqueueAsync(type, new Greet("Zed"), ct: Ct);
        while ((await jobs.GetAsync(id, Ct))!.State != JobState.Running) await Task.Delay(50, Ct);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await host.StopAsync(CancellationToken.None);
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"stopping took {watch.Elapsed}");
        var job = await host.Services.GetRequiredService<IJobStore>().JobGetAsync(id, Ct);
        Assert.Equal((JobState.Queued, 0), (job!.State, job.Attempt));
        host.Dispose();
    }

    [Fact]
    public async Task EnqueueAsync_InAppSqliteTransaction_WorkerWokenAtTheEndOfTheTransactionNotByItsPoll()
    {
        var path = _dir.File("app.db");
        var settings = TestApp.Sqlite(path);
        settings["Worker:PollInterval"] = "1m";
        var host = await TestApp.StartAsync(settings, b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            await Task.Delay(300, Ct);
            await using var c = new SqliteConnection($"Data Source={path}");
            await c.OpenAsync(Ct);
            Guid id;
            DateTimeOffset committedAt;
            await using (var tx = await c.BeginTransactionAsync(Ct))
            {
                id = await jobs.EnqueueAsync("greet", new Greet("Ivy"), transaction: tx, ct: Ct);
                await Task.Delay(300, Ct);
                committedAt = DateTimeOffset.UtcNow;
                await tx.CommitAsync(Ct);
            }

            await jobs.WaitAsync(id, Ct);
            var started = (await jobs.GetAsync(id, Ct))!.StartedAt!.Value;
            Assert.True(started >= committedAt.AddMilliseconds(-5), "not started before the commit");
            Assert.True(started - committedAt < TimeSpan.FromSeconds(2), $"started {(started - committedAt).TotalMilliseconds} ms after the commit");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueAsync_TransactionOfAnotherProvider_RefusedNamingTheTransaction()
    {
        var host = await TestApp.StartAsync(TestApp.Sqlite(_dir.File("app.db"), worker: false));
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            // A transaction object of another provider, never opened: refused on its type alone.
            var tx = (System.Data.Common.DbTransaction)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(Npgsql.NpgsqlTransaction));

            var ex = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("greet", null, transaction: tx, ct: Ct));

            Assert.Equal("transaction", ex.Where);
            Assert.Contains("NpgsqlTransaction", ex.Message, StringComparison.Ordinal);
            Assert.Contains("SqliteTransaction", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddGantry_KeyAnExtensionAccepts_Started()
    {
        var settings = TestApp.Sqlite(_dir.File("app.db"), worker: false);
        settings["Schedules:nightly:Cron"] = "0 3 * * *";
        var host = await TestApp.StartAsync(settings, b => b.AcceptSetting("Schedules"));
        await host.StopAsync();
    }
}
