using Gantry.Testing;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>One PostgreSQL cluster for the CLI's PostgreSQL tests; each test gets a database of its own.</summary>
public sealed class PostgresClusterFixture : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await PostgresCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Creates an empty database and returns its postgres:// URL.</summary>
    public async Task<string> NewDatabaseAsync()
    {
        var name = "cli_" + Guid.NewGuid().ToString("N")[..16];
        await Cluster.ExecuteAsync($"CREATE DATABASE {name}");
        return Cluster.Url(name);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresClusterCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres-cli";
}
