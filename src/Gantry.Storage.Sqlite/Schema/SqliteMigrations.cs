using System.Globalization;
using Microsoft.Data.Sqlite;
using static Gantry.Storage.Sqlite.SqliteDatabase;

namespace Gantry.Storage.Sqlite;

/// <summary>The schema: its versioned migrations (<see cref="SqliteSchema"/>) applied on open, or only checked when the
/// store may not migrate.</summary>
internal sealed class SqliteMigrations(SqliteDatabase db) : IStoreMigrations
{
    /// <summary>Brings the file to <see cref="SqliteSchema.LatestVersion"/> (switching it to WAL first), applying each
    /// migration it lacks in the transaction that records it; refuses a foreign database or a newer schema unchanged.</summary>
    public Task MigrateAsync(CancellationToken ct) => db.WithWriterAsync(c =>
    {
        // Refuse a foreign database before anything is written to it (switching to WAL rewrites the file header).
        ThrowIfForeign(c);
        // WAL lets readers in other processes work while one process writes; it is a property of the file.
        var mode = Scalar(c, "PRAGMA journal_mode = WAL")?.ToString();
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new StoreUnavailableException($"database file {db.FullPath} could not be switched to WAL mode (it is in {mode} mode)");
        Exec(c, "BEGIN IMMEDIATE");
        try
        {
            if (!ThrowIfForeign(c))
                Exec(c, "CREATE TABLE gantry_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
            var current = Convert.ToInt64(Scalar(c, MigrationSql.Version));
            if (current > SqliteSchema.LatestVersion)
                throw new StoreUnavailableException($"database file {db.FullPath} has schema version {current}, newer than this Gantry knows ({SqliteSchema.LatestVersion}); upgrade Gantry");
            foreach (var (version, sql) in SqliteSchema.Migrations)
            {
                if (version <= current) continue;
                Exec(c, sql);
                using var record = c.CreateCommand();
                record.CommandText = "INSERT INTO gantry_migrations (version, applied_at) VALUES (@v, @at)";
                record.Parameters.AddWithValue("@v", version);
                record.Parameters.AddWithValue("@at", db.NowMs());
                record.ExecuteNonQuery();
            }
            Exec(c, "COMMIT");
        }
        catch
        {
            try { Exec(c, "ROLLBACK"); } catch (SqliteException) { }
            throw;
        }
    }, ct);

    public Task<int> SchemaVersionAsync(CancellationToken ct) =>
        db.ReadAsync(c => Convert.ToInt32(Scalar(c, MigrationSql.Version), CultureInfo.InvariantCulture), ct);

    /// <summary>Refuses a file whose schema is missing or at another version than this code's, changing nothing.</summary>
    public Task CheckAsync(CancellationToken ct) => db.ReadAsync(CheckSchema, ct);

    private bool CheckSchema(SqliteConnection c)
    {
        var version = ThrowIfForeign(c) ? Convert.ToInt64(Scalar(c, MigrationSql.Version)) : 0;
        if (version != SqliteSchema.LatestVersion)
            throw new StoreUnavailableException($"database file {db.FullPath} is at schema version {version}, this Gantry needs {SqliteSchema.LatestVersion} and was asked not to migrate (run `gantry migrate --db {db.Options.Path}` or allow migrations)");
        return true;
    }

    /// <summary>True when the file holds a Gantry store, false when it holds none yet (no table at all, or only an
    /// application's with <see cref="SqliteStoreOptions.ShareFile"/>); throws for any other database.</summary>
    private bool ThrowIfForeign(SqliteConnection c)
    {
        // One statement, one snapshot: two reads would let another process's first migration commit in
        // between, and its tables would look like a foreign database's.
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT count(*) FILTER (WHERE name = 'gantry_migrations'), count(*) FILTER (WHERE name NOT LIKE 'sqlite_%') FROM sqlite_master WHERE type = 'table'";
        using var reader = cmd.ExecuteReader();
        reader.Read();
        if (reader.GetInt64(0) > 0) return true;
        if (reader.GetInt64(1) > 0 && !db.Options.ShareFile)
            throw new StoreUnavailableException($"database file {db.FullPath} is an SQLite database but not a Gantry store; refusing to change it");
        return false;
    }
}
