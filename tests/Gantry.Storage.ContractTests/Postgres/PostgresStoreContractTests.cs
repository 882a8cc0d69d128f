using Gantry.Storage.Postgres;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>The store contract on PostgreSQL: a fresh schema per test in the shared throwaway cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreContractTests(PostgresFixture fixture) : StoreContractTests
{
    private readonly string _schema = PostgresFixture.NewSchema();

    protected override int LatestSchemaVersion => PostgresJobStore.LatestSchemaVersion;

    protected override async Task<IJobStore> OpenStoreAsync(TimeProvider time, CancellationToken ct) =>
        await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = fixture.ConnectionString, Schema = _schema, Time = time }, ct);

    /// <summary>The application's connection: the same database, its own tables in its default schema (public).</summary>
    protected override async Task<System.Data.Common.DbConnection> OpenAppConnectionAsync(CancellationToken ct)
    {
        var c = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await c.OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        // Each test's own tables: an application schema named after the store's.
        cmd.CommandText = $"CREATE SCHEMA IF NOT EXISTS \"app_{_schema}\"; SET search_path TO \"app_{_schema}\"";
        await cmd.ExecuteNonQueryAsync(ct);
        return c;
    }

    protected override async Task<System.Data.Common.DbConnection> OpenOtherDatabaseAsync(CancellationToken ct)
    {
        await fixture.Cluster.ExecuteAsync("SELECT 1"); // the cluster is up
        if (!await fixture.Cluster.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gantry_other')"))
        {
            try { await fixture.Cluster.ExecuteAsync("CREATE DATABASE gantry_other"); }
            catch (Npgsql.PostgresException ex) when (ex.SqlState is Npgsql.PostgresErrorCodes.DuplicateDatabase or Npgsql.PostgresErrorCodes.UniqueViolation) { }
        }
        var c = new Npgsql.NpgsqlConnection(fixture.Cluster.ForDatabase("gantry_other"));
        await c.OpenAsync(ct);
        return c;
    }

    /// <summary>After every contract test, whatever it did: one ready row per queued job, and none for any other.</summary>
    protected override async Task DropStateAsync()
    {
        try
        {
            if (await fixture.Cluster.ScalarAsync<bool>($"SELECT to_regclass('\"{_schema}\".job_ready') IS NOT NULL"))
                Assert.Equal("", await PostgresReady.MismatchAsync(fixture.Cluster, _schema));
        }
        finally
        {
            await fixture.DropSchemaAsync(_schema);
            await fixture.DropSchemaAsync("app_" + _schema);
        }
    }
}
