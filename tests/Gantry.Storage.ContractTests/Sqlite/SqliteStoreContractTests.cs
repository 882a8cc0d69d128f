using Gantry.Storage.Sqlite;

namespace Gantry.Storage.ContractTests.Sqlite;

/// <summary>The store contract on SQLite: a fresh database file per test, in a directory of its own.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly TempDirectory _dir = new();

    protected override int LatestSchemaVersion => SqliteJobStore.LatestSchemaVersion;

    protected override async Task<IJobStore> OpenStoreAsync(TimeProvider time, CancellationToken ct) =>
        await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _dir.File("gantry.db"), Time = time }, ct);

    protected override async Task<System.Data.Common.DbConnection> OpenAppConnectionAsync(CancellationToken ct)
    {
        var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.File("gantry.db")}");
        await c.OpenAsync(ct);
        return c;
    }

    protected override async Task<System.Data.Common.DbConnection> OpenOtherDatabaseAsync(CancellationToken ct)
    {
        var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.File("other.db")}");
        await c.OpenAsync(ct);
        return c;
    }

    [Fact]
    public async Task Statements_PerKeyClaims_AreNotPreparedAgainForEachNewValue()
    {
        // The write connection's statements are prepared once: a per-key claim binds a new key for every key it walks and
        // a new list of jobs for its claim, and neither may make SQLite prepare its statement again.
        var jobs = Enumerable.Range(0, 40).Select(i => Job() with { ConcurrencyKey = $"k{i}" }).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        await Store.QueueLimitsSetAsync("default", new Gantry.Flow.QueueLimits { PerKey = 1 }, Ct);
        for (var i = 0; i < 4; i++) Assert.Equal(10, (await ClaimAsync(limit: 10)).Count);

        Assert.Equal(0, ((SqliteJobStore)Store).Database.Reprepared());
    }

    protected override Task DropStateAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
