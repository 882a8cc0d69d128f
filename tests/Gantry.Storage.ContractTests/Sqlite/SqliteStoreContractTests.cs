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

    protected override Task DropStateAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
