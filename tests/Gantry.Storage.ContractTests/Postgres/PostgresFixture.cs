using Gantry.Testing;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>One PostgreSQL cluster for every PostgreSQL test of this assembly; each test works in a schema of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;

    public string ConnectionString => Cluster.ConnectionString;

    public async Task InitializeAsync() => Cluster = await PostgresCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N");

    public Task DropSchemaAsync(string schema) => Cluster.ExecuteAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
