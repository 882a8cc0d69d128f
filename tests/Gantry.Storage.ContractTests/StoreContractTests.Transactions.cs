using System.Data.Common;
using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

/// <summary>Enqueue inside the application's own transaction on the store's database (<see cref="JobEnqueueParams.Transaction"/>).</summary>
public abstract partial class StoreContractTests
{
    /// <summary>An open connection of the application's own on this test's database, as its data access opens one.</summary>
    protected abstract Task<DbConnection> OpenAppConnectionAsync(CancellationToken ct);

    /// <summary>A connection to a database that is not this test's store (for the refusal of a foreign transaction).</summary>
    protected abstract Task<DbConnection> OpenOtherDatabaseAsync(CancellationToken ct);

    /// <summary>The application's own table, created on its connection.</summary>
    private static async Task CreateOrdersAsync(DbConnection c)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "CREATE TABLE IF NOT EXISTS app_orders (id integer PRIMARY KEY, job text)";
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task InsertOrderAsync(DbConnection c, DbTransaction tx, int id, Guid job)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"INSERT INTO app_orders (id, job) VALUES ({id}, '{job}')";
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountOrdersAsync(DbConnection c)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM app_orders";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task JobEnqueueMany_InAppTransactionCommitted_JobAndRowBothThereAndClaimable()
    {
        await using var c = await OpenAppConnectionAsync(Ct);
        await CreateOrdersAsync(c);
        var job = Job();
        await using (var tx = await c.BeginTransactionAsync(Ct))
        {
            await InsertOrderAsync(c, tx, 1, job.Id);
            var result = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([job]) { Transaction = tx }, Ct));
            Assert.Equal(new JobEnqueueResult(job.Id, false, JobState.Queued), result);
            await tx.CommitAsync(Ct);
        }

        Assert.Equal(1, await CountOrdersAsync(c));
        Assert.Equal(JobState.Queued, (await GetAsync(job.Id)).State);
        Assert.Equal(job.Id, (await ClaimOneAsync()).Id);
    }

    [Fact]
    public async Task JobEnqueueMany_InAppTransactionRolledBack_NeitherJobNorRow()
    {
        await using var c = await OpenAppConnectionAsync(Ct);
        await CreateOrdersAsync(c);
        var job = Job();
        await using (var tx = await c.BeginTransactionAsync(Ct))
        {
            await InsertOrderAsync(c, tx, 1, job.Id);
            await Store.JobEnqueueManyAsync(new JobEnqueueParams([job]) { Transaction = tx }, Ct);
            await tx.RollbackAsync(Ct);
        }

        Assert.Equal(0, await CountOrdersAsync(c));
        Assert.Null(await Store.JobGetAsync(job.Id, Ct));
        Assert.Empty(await ClaimAsync());
        // The application's connection goes on with its own work afterwards, on its own tables.
        await using var after = await c.BeginTransactionAsync(Ct);
        await InsertOrderAsync(c, after, 2, job.Id);
        await after.CommitAsync(Ct);
        Assert.Equal(1, await CountOrdersAsync(c));
    }

    [Fact]
    public async Task JobEnqueueMany_InAppTransactionIdempotencyKeyTaken_GivesBackExistingJob()
    {
        var first = await EnqueueAsync(Job() with { IdempotencyKey = "order-7" });
        await using var c = await OpenAppConnectionAsync(Ct);
        await using var tx = await c.BeginTransactionAsync(Ct);

        var result = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "order-7" }]) { Transaction = tx }, Ct));
        await tx.CommitAsync(Ct);

        Assert.Equal(new JobEnqueueResult(first, true, JobState.Queued), result);
    }

    [Fact]
    public async Task JobEnqueueMany_InEndedTransaction_RefusedNamingTheTransaction()
    {
        await using var c = await OpenAppConnectionAsync(Ct);
        var tx = await c.BeginTransactionAsync(Ct);
        await tx.CommitAsync(Ct);

        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => Store.JobEnqueueManyAsync(new JobEnqueueParams([Job()]) { Transaction = tx }, Ct));

        Assert.Equal("transaction", ex.Where);
        Assert.Contains("ended", ex.Message, StringComparison.Ordinal);
        await tx.DisposeAsync();
    }

    [Fact]
    public async Task JobEnqueueMany_InTransactionOnAnotherDatabase_RefusedAndNothingStored()
    {
        await using var c = await OpenOtherDatabaseAsync(Ct);
        await using var tx = await c.BeginTransactionAsync(Ct);
        var job = Job();

        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => Store.JobEnqueueManyAsync(new JobEnqueueParams([job]) { Transaction = tx }, Ct));

        Assert.Equal("transaction", ex.Where);
        Assert.Null(await Store.JobGetAsync(job.Id, Ct));
    }
}
