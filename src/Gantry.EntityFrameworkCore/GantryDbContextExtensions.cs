using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gantry;

/// <summary>
/// Enqueues jobs in the current transaction of an Entity Framework Core <see cref="DbContext"/> on the store's database
/// (Npgsql on PostgreSQL, Microsoft.Data.Sqlite on the store's SQLite file): the jobs commit or roll back with the
/// context's changes, and workers are woken at the commit.
/// </summary>
/// <example>
/// <code>
/// await using var tx = await db.Database.BeginTransactionAsync(ct);
/// db.Orders.Add(order);
/// await db.SaveChangesAsync(ct);
/// await jobs.EnqueueAsync(db, "ship", new { order.Id }, ct: ct);
/// await tx.CommitAsync(ct);
/// </code>
/// </example>
public static class GantryDbContextExtensions
{
    /// <summary>Enqueues one job in <paramref name="context"/>'s current transaction; see <see cref="IJobClient.EnqueueAsync(string, object?, JobOptions?, System.Data.Common.DbTransaction?, CancellationToken)"/>.</summary>
    public static Task<Guid> EnqueueAsync(this IJobClient jobs, DbContext context, string type, object? payload, JobOptions? options = null, CancellationToken ct = default) =>
        jobs.EnqueueAsync(type, payload, options, TransactionOf(context), ct);

    /// <summary>Enqueues one job of <typeparamref name="THandler"/>'s type in <paramref name="context"/>'s current transaction.</summary>
    public static Task<Guid> EnqueueAsync<THandler>(this IJobClient jobs, DbContext context, object? payload, JobOptions? options = null, CancellationToken ct = default)
        where THandler : class =>
        jobs.EnqueueAsync<THandler>(payload, options, TransactionOf(context), ct);

    /// <summary>Enqueues a batch, all or none, in <paramref name="context"/>'s current transaction.</summary>
    public static Task<IReadOnlyList<Guid>> EnqueueBatchAsync(this IJobClient jobs, DbContext context, IEnumerable<JobRequest> batch, CancellationToken ct = default) =>
        jobs.EnqueueBatchAsync(batch, TransactionOf(context), ct);

    /// <summary>The ADO.NET transaction under the context's current one; throws when it has none.</summary>
    private static System.Data.Common.DbTransaction TransactionOf(DbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException(
                $"{context.GetType().Name} has no current transaction: begin one (context.Database.BeginTransactionAsync()), save your changes, enqueue, then commit");
    }
}
