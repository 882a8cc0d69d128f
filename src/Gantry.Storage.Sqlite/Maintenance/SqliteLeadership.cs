namespace Gantry.Storage.Sqlite;

/// <summary>Leadership as a lease row per name (SQLite has no sessions that die with a process).</summary>
internal sealed class SqliteLeadership(SqliteDatabase db) : IStoreLeadership
{
    // SQLite has no sessions that die with a process, so leadership is a lease row: the holder renews
    // it, anyone takes it once it has lapsed. The upsert's WHERE decides in one statement, inside the
    // write transaction (BEGIN IMMEDIATE), so two processes cannot both win.
    private const string ElectSql = """
        INSERT INTO leaders (name, holder, elected_at, expires_at) VALUES (@name, @holder, @now, @expires)
        ON CONFLICT (name) DO UPDATE SET
          elected_at = CASE WHEN leaders.holder = excluded.holder THEN leaders.elected_at ELSE excluded.elected_at END,
          holder = excluded.holder, expires_at = excluded.expires_at
        WHERE leaders.holder = excluded.holder OR leaders.expires_at <= @now
        """;

    public Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct) => db.WriteAsync(_ =>
    {
        var now = db.NowMs();
        return db.Prepared(ElectSql).Bind("@name", p.Name).Bind("@holder", p.HolderId).Bind("@now", now)
            .Bind("@expires", now + (long)p.Ttl.TotalMilliseconds).ExecuteNonQuery() == 1;
    }, ct);

    public Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct) => db.WriteAsync(_ =>
        db.Prepared("DELETE FROM leaders WHERE name = @name AND holder = @holder").Bind("@name", p.Name).Bind("@holder", p.HolderId).ExecuteNonQuery(), ct);
}
