namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>A PostgreSQL test class whose tests each have a fresh schema of their own, dropped after, and a minute to run.</summary>
public abstract class PostgresSchemaTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    protected PostgresFixture Fixture { get; } = fixture;

    /// <summary>The test's own schema (created by the first store opened on it).</summary>
    protected string Schema { get; } = PostgresFixture.NewSchema();

    protected CancellationToken Ct => _timeout.Token;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _timeout.Dispose();
        await Fixture.DropSchemaAsync(Schema);
    }
}
