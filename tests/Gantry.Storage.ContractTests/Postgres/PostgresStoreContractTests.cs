using Gantry.Storage.Postgres;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>The store contract on PostgreSQL: a fresh schema per test in the shared throwaway cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreContractTests(PostgresFixture fixture) : StoreContractTests
{
    private readonly string _schema = PostgresFixture.NewSchema();

    protected override async Task<IJobStore> OpenStoreAsync(TimeProvider time, CancellationToken ct) =>
        await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = fixture.ConnectionString, Schema = _schema, Time = time }, ct);

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
        }
    }
}
