using Gantry.Testing;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>A PostgreSQL cluster for one class of the CLI's PostgreSQL tests (a class fixture), each test with a database of
/// its own. A cluster per class lets the classes run beside each other, and a class that restarts its cluster cuts no
/// other class's connections; a cluster costs about two seconds to make.</summary>
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
