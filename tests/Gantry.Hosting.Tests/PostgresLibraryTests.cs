using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xunit.Abstractions;

namespace Gantry.Hosting.Tests;

public sealed class PostgresClusterFixture : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;
    public async Task InitializeAsync() => Cluster = await PostgresCluster.StartAsync();
    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Gantry inside an application on PostgreSQL: the job in the application's own transaction.</summary>
public sealed class PostgresLibraryTests(PostgresClusterFixture fixture, ITestOutputHelper output) : IClassFixture<PostgresClusterFixture>, IAsyncLifetime
{
    private readonly string _schema = "t_" + Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _timeout.Token;

    public Task InitializeAsync() => fixture.Cluster.ExecuteAsync($"CREATE TABLE \"orders_{_schema}\" (id serial PRIMARY KEY, job uuid NOT NULL)");

    public async Task DisposeAsync()
    {
        _timeout.Dispose();
        await fixture.Cluster.ExecuteAsync($"DROP TABLE IF EXISTS \"orders_{_schema}\"; DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE");
    }

    /// <summary>The worker polls once a minute: only the notification at the commit can start the job sooner.</summary>
    private Dictionary<string, string?> Settings() => new()
    {
        ["Store"] = fixture.Cluster.Url() + "?schema=" + _schema,
        ["Worker:Queues:default"] = "4",
        ["Worker:PollInterval"] = "1m",
        ["Worker:DrainTimeout"] = "1s",
        ["Worker:CancelGracePeriod"] = "1s",
    };

    private async Task<NpgsqlConnection> OpenAppConnectionAsync()
    {
        var c = new NpgsqlConnection(fixture.Cluster.ConnectionString);
        await c.OpenAsync(Ct);
        return c;
    }

    private async Task InsertOrderAsync(NpgsqlConnection c, NpgsqlTransaction tx, Guid job)
    {
        await using var insert = new NpgsqlCommand($"INSERT INTO \"orders_{_schema}\" (job) VALUES (@job)", c, tx);
        insert.Parameters.AddWithValue("job", job);
        await insert.ExecuteNonQueryAsync(Ct);
    }

    [Fact]
    public async Task EnqueueAsync_InDbContextTransactionOnPostgres_CommitsAndRollsBackWithTheChanges()
    {
        var host = await TestApp.StartAsync(Settings(), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var options = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<PgShopContext>()
                .UseNpgsql(fixture.Cluster.ConnectionString).Options;
            await using var db = new PgShopContext(options, $"orders_{_schema}");

            Guid kept, dropped;
            await using (var tx = await db.Database.BeginTransactionAsync(Ct))
            {
                kept = await jobs.EnqueueAsync<GreetHandler>(db, new Greet("Ada"), ct: Ct);
                db.Orders.Add(new PgOrder { Job = kept });
                await db.SaveChangesAsync(Ct);
                await tx.CommitAsync(Ct);
            }
            await using (var tx = await db.Database.BeginTransactionAsync(Ct))
            {
                dropped = await jobs.EnqueueAsync(db, "greet", new Greet("Mallory"), ct: Ct);
                db.Orders.Add(new PgOrder { Job = dropped });
                await db.SaveChangesAsync(Ct);
                await tx.RollbackAsync(Ct);
            }
            db.ChangeTracker.Clear();

            // Started by the notification at the commit (the worker polls once a minute).
            Assert.Equal("Hello, Ada!", (await jobs.WaitAsync<Greeting>(kept, Ct))!.Text);
            Assert.Null(await jobs.GetAsync(dropped, Ct));
            Assert.Equal([kept], await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.Orders.Select(o => o.Job), Ct));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WaitAsync_OnPostgres_SeesTheEndWithinTensOfMillisecondsFromTheStoresSignal()
    {
        var host = await TestApp.StartAsync(Settings(), b => b.AddWorker());
        try
        {
            var seen = await EndLatency.MeasureAsync(host.Services.GetRequiredService<IJobClient>(), CancellationToken.None);
            output.WriteLine($"end seen {seen.TotalMilliseconds:0.0} ms after it happened");
            Assert.True(seen < TimeSpan.FromMilliseconds(500), $"the end was seen {seen.TotalMilliseconds:0} ms after it happened");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task JobWaits_InAnotherProcess_SeesTheEndWithinTensOfMillisecondsFromTheEndedNotification()
    {
        var host = await TestApp.StartAsync(Settings(), b => b.AddWorker());
        // Another store instance on the same schema: its own signals and LISTEN connection, as another process has.
        await using var other = await Gantry.Storage.Postgres.PostgresJobStore.OpenAsync(
            new Gantry.Storage.Postgres.PostgresStoreOptions { ConnectionString = fixture.Cluster.ConnectionString, Schema = _schema }, CancellationToken.None);
        try
        {
            var seen = await EndLatency.MeasureAsync(host.Services.GetRequiredService<IJobClient>(), CancellationToken.None,
                async (id, ct) => Assert.Equal(JobState.Succeeded, (await Gantry.Storage.JobWaits.UntilEndedAsync(other, id, Timeout.InfiniteTimeSpan, TimeProvider.System, ct))!.State));
            output.WriteLine($"end seen by another store instance {seen.TotalMilliseconds:0.0} ms after it happened");
            Assert.True(seen < TimeSpan.FromMilliseconds(500), $"the end was seen {seen.TotalMilliseconds:0} ms after it happened");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueAsync_InAppTransaction_NotThereBeforeCommitAndStartedByNotifyWithinMillisecondsOfIt()
    {
        var host = await TestApp.StartAsync(Settings(), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            await Task.Delay(500, Ct); // the worker has looked once and now waits: for a notification, or a minute
            await using var c = await OpenAppConnectionAsync();
            var tx = await c.BeginTransactionAsync(Ct);
            var id = await jobs.EnqueueAsync<GreetHandler>(new Greet("Ada"), transaction: tx, ct: Ct);
            await InsertOrderAsync(c, tx, id);
            await Task.Delay(300, Ct);
            Assert.Null(await jobs.GetAsync(id, Ct));

            var committedAt = DateTimeOffset.UtcNow;
            await tx.CommitAsync(Ct);
            var watch = Stopwatch.StartNew();
            var result = await jobs.WaitAsync<Greeting>(id, Ct);

            var job = await jobs.GetAsync(id, Ct);
            var startedAfter = job!.StartedAt!.Value - committedAt;
            output.WriteLine($"started {startedAfter.TotalMilliseconds:0.0} ms after the commit; WaitAsync returned after {watch.ElapsedMilliseconds} ms");
            Assert.Equal("Hello, Ada!", result!.Text);
            Assert.True(startedAfter < TimeSpan.FromSeconds(2), $"started {startedAfter.TotalMilliseconds} ms after the commit");
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"orders_{_schema}\"", c);
            Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
            await tx.DisposeAsync();
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EnqueueAsync_InAppTransactionRolledBack_NeitherJobNorRowAndTheConnectionGoesOn()
    {
        var host = await TestApp.StartAsync(Settings(), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            await using var c = await OpenAppConnectionAsync();
            Guid id;
            await using (var tx = await c.BeginTransactionAsync(Ct))
            {
                id = await jobs.EnqueueAsync("greet", new Greet("Mallory"), transaction: tx, ct: Ct);
                await InsertOrderAsync(c, tx, id);
                await tx.RollbackAsync(Ct);
            }

            Assert.Null(await jobs.GetAsync(id, Ct));
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"orders_{_schema}\"", c);
            Assert.Equal(0L, await count.ExecuteScalarAsync(Ct));
            // The application's search path is its own again: the unqualified name still means its table, not Gantry's.
            await using var path = new NpgsqlCommand("SELECT current_setting('search_path')", c);
            Assert.DoesNotContain(_schema, (string)(await path.ExecuteScalarAsync(Ct))!, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}

public sealed class PgOrder
{
    public int Id { get; set; }
    public Guid Job { get; set; }
}

/// <summary>The application's own table (one per test, in the database's default schema), mapped by EF Core.</summary>
public sealed class PgShopContext(Microsoft.EntityFrameworkCore.DbContextOptions<PgShopContext> options, string table)
    : Microsoft.EntityFrameworkCore.DbContext(options)
{
    public Microsoft.EntityFrameworkCore.DbSet<PgOrder> Orders => Set<PgOrder>();

    protected override void OnModelCreating(Microsoft.EntityFrameworkCore.ModelBuilder model)
    {
        var order = model.Entity<PgOrder>();
        order.ToTable(table);
        order.Property(o => o.Id).HasColumnName("id");
        order.Property(o => o.Job).HasColumnName("job");
    }

    // One model per table name: EF Core caches models by context type unless told the key.
    protected override void OnConfiguring(Microsoft.EntityFrameworkCore.DbContextOptionsBuilder options) =>
        options.ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory, TableModelCacheKey>();

    private sealed class TableModelCacheKey : Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory
    {
        public object Create(Microsoft.EntityFrameworkCore.DbContext context, bool designTime) => (((PgShopContext)context).Table, designTime);
    }

    internal string Table => table;
}
