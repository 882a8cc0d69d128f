using Gantry.Storage.Postgres;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>The store contract on PostgreSQL: a fresh schema per test in the shared throwaway cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreContractTests(PostgresFixture fixture) : StoreContractTests
{
    private readonly string _schema = PostgresFixture.NewSchema();

    protected override async Task<IJobStore> OpenStoreAsync(TimeProvider time, CancellationToken ct) =>
        await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = fixture.ConnectionString, Schema = _schema, Time = time }, ct);

    protected override Task DropStateAsync() => fixture.DropSchemaAsync(_schema);
}
