using Gantry.Testing;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>One PostgreSQL cluster for the CLI's PostgreSQL tests; each test gets a database of its own.</summary>
public sealed class PostgresClusterFixture : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await PostgresCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Creates an empty database and returns its postgres:// URL.</summary>
    public async Task<string> NewDatabaseAsync() => (await NewStoreDatabaseAsync()).Url;

    /// <summary>Creates an empty database: its postgres:// URL for gantry, and an unpooled connection string into the
    /// store's schema for the test's own queries (unpooled, so a server restart leaves no broken connection behind).</summary>
    public async Task<(string Url, string ConnectionString)> NewStoreDatabaseAsync()
    {
        var name = "cli_" + Guid.NewGuid().ToString("N")[..16];
        await Cluster.ExecuteAsync($"CREATE DATABASE {name}");
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(Cluster.ForDatabase(name)) { Pooling = false, SearchPath = "gantry" }.ConnectionString;
        return (Cluster.Url(name), cs);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresClusterCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres-cli";
}
