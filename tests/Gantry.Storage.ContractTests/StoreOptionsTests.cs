using Gantry.Storage.Postgres;
using Gantry.Storage.Sqlite;

namespace Gantry.Storage.ContractTests;

/// <summary>Every setting of the store options that can be wrong is refused, naming the setting; the defaults are valid.</summary>
public sealed class StoreOptionsTests
{
    private static void AssertRefused(string where, Action validate)
    {
        var ex = Assert.Throws<InvalidInputException>(validate);

        Assert.Equal(where, ex.Where);
        Assert.StartsWith(where + ":", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Valid()
    {
        new SqliteStoreOptions { Path = "gantry.db" }.Validate();
        new PostgresStoreOptions { ConnectionString = "Host=localhost" }.Validate();
    }

    public static TheoryData<string, SqliteStoreOptions> InvalidSqlite => new()
    {
        { "database path", new SqliteStoreOptions { Path = " " } },
        { "busy timeout", new SqliteStoreOptions { Path = "gantry.db", BusyTimeout = TimeSpan.FromSeconds(-1) } },
    };

    [Theory]
    [MemberData(nameof(InvalidSqlite))]
    public void SqliteStoreOptions_Invalid_RefusedNamingTheSetting(string where, SqliteStoreOptions options) => AssertRefused(where, options.Validate);

    [Fact]
    public async Task SqliteOpen_InvalidOptions_RefusedBeforeAnyFileIsTouched() =>
        await Assert.ThrowsAsync<InvalidInputException>(() => SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = "" }, CancellationToken.None));

    public static TheoryData<string, PostgresStoreOptions> InvalidPostgres => new()
    {
        { "store", new PostgresStoreOptions { ConnectionString = "" } },
        { "schema", new PostgresStoreOptions { ConnectionString = "Host=localhost", Schema = "Gantry" } },
        { "schema", new PostgresStoreOptions { ConnectionString = "Host=localhost", Schema = "a;drop" } },
        { "schema", new PostgresStoreOptions { ConnectionString = "Host=localhost", Schema = "" } },
    };

    [Theory]
    [MemberData(nameof(InvalidPostgres))]
    public void PostgresStoreOptions_Invalid_RefusedNamingTheSetting(string where, PostgresStoreOptions options) => AssertRefused(where, options.Validate);
}
