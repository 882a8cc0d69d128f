using Gantry.Jobs;
using Gantry.Storage.Postgres;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>
/// job_types, the types ever enqueued that the job list asks before it walks for a type (PostgreSQL has no type index):
/// filled from the jobs a store already holds when migration 19 runs, then kept by every enqueue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresJobTypesTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private CancellationToken Ct => _timeout.Token;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _timeout.Dispose();
        await fixture.DropSchemaAsync(_schema);
    }

    private Task<PostgresJobStore> OpenAsync() =>
        PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = fixture.ConnectionString, Schema = _schema }, Ct);

    private static NewJob Job(string type) => new() { Id = JobIds.New(), Type = type, Queue = "q" };

    private async Task<Guid[]> ListAsync(IJobStore store, string? search = null, string? type = null) =>
        (await store.JobListAsync(new JobListParams { Search = search, Type = type }, Ct)).Select(j => j.Id).ToArray();

    [Fact]
    public async Task Migration19_OnAStoreThatHoldsJobs_KnowsTheirTypes_AndEveryEnqueueAddsItsOwn()
    {
        Guid alpha, beta;
        await using (var store = await OpenAsync())
        {
            alpha = (await store.JobEnqueueManyAsync(new JobEnqueueParams([Job("alpha.one")]), Ct))[0].Id;
            beta = (await store.JobEnqueueManyAsync(new JobEnqueueParams([Job("beta.two")]), Ct))[0].Id;
        }
        // The store as it was at version 18, with its jobs: no job_types.
        await fixture.Cluster.ExecuteAsync($"DROP TABLE \"{_schema}\".job_types; DELETE FROM \"{_schema}\".gantry_migrations WHERE version = 19");

        await using var upgraded = await OpenAsync();

        Assert.Equal(2L, await fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".job_types"));
        Assert.Equal([alpha], await ListAsync(upgraded, search: "alpha"));
        Assert.Equal([beta], await ListAsync(upgraded, type: "beta.two"));
        Assert.Empty(await ListAsync(upgraded, search: "gamma"));
        Assert.Empty(await ListAsync(upgraded, type: "gamma.three"));
        // A batch with a new type and a known one: the new one is known at once, the known one not added twice.
        var gamma = (await upgraded.JobEnqueueManyAsync(new JobEnqueueParams([Job("gamma.three"), Job("alpha.one"), Job("gamma.three")]), Ct))
            .Select(r => r.Id).ToArray();
        Assert.Equal(3L, await fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".job_types"));
        Assert.Equal([gamma[2], gamma[0]], await ListAsync(upgraded, search: "gamma"));
        Assert.Equal([gamma[2], gamma[0]], await ListAsync(upgraded, type: "gamma.three"));
    }
}
