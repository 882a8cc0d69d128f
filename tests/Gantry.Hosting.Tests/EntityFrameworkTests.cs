using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Hosting.Tests;

public sealed class Order
{
    public int Id { get; set; }
    public Guid Job { get; set; }
}

public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();
}

/// <summary>Jobs in an Entity Framework Core context's transaction, on the store's SQLite file.</summary>
public sealed class EntityFrameworkTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task EnqueueAsync_InDbContextTransaction_CommitsAndRollsBackWithTheChanges()
    {
        var path = _dir.File("shop.db");
        var host = await TestApp.StartAsync(TestApp.Sqlite(path), b => b.AddWorker());
        try
        {
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var options = new DbContextOptionsBuilder<ShopContext>().UseSqlite($"Data Source={path}").Options;
            await using var db = new ShopContext(options);
            await db.Database.ExecuteSqlRawAsync("CREATE TABLE Orders (Id INTEGER PRIMARY KEY AUTOINCREMENT, Job TEXT NOT NULL)", Ct);

            Guid kept, dropped;
            await using (var tx = await db.Database.BeginTransactionAsync(Ct))
            {
                kept = await jobs.EnqueueAsync<GreetHandler>(db, new Greet("Ada"), ct: Ct);
                db.Orders.Add(new Order { Job = kept });
                await db.SaveChangesAsync(Ct);
                await tx.CommitAsync(Ct);
            }
            await using (var tx = await db.Database.BeginTransactionAsync(Ct))
            {
                dropped = await jobs.EnqueueAsync(db, "greet", new Greet("Mallory"), ct: Ct);
                db.Orders.Add(new Order { Job = dropped });
                await db.SaveChangesAsync(Ct);
                await tx.RollbackAsync(Ct);
            }
            db.ChangeTracker.Clear();

            Assert.Equal("Hello, Ada!", (await jobs.WaitAsync<Greeting>(kept, Ct))!.Text);
            Assert.Null(await jobs.GetAsync(dropped, Ct));
            Assert.Equal([kept], await db.Orders.Select(o => o.Job).ToListAsync(Ct));
            var none = await Assert.ThrowsAsync<InvalidOperationException>(() => jobs.EnqueueAsync(db, "greet", null, ct: Ct));
            Assert.Contains("no current transaction", none.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
