using System.Globalization;
using Gantry.Storage.Sqlite.Native;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, shared safely by any number of processes.
/// Within a process all writes go through one connection behind an async lock (SQLite has one
/// writer at a time anyway); every write transaction starts with <c>BEGIN IMMEDIATE</c> so that two
/// processes never deadlock upgrading a read lock, and waits out the other's lock up to the busy
/// timeout. Reads use pooled connections and never block writers.
/// </summary>
public sealed partial class SqliteJobStore : IJobStore
{
    private readonly SqliteDatabase _db;
    private readonly SqliteStoreOptions _options;

    private SqliteJobStore(SqliteStoreOptions options)
    {
        _options = options;
        _db = new SqliteDatabase(options);
        FullPath = _db.FullPath;
    }

    /// <summary>Opens (and when allowed, creates and migrates) the store at <see cref="SqliteStoreOptions.Path"/>.</summary>
    public static async Task<SqliteJobStore> OpenAsync(SqliteStoreOptions options, CancellationToken ct)
    {
        options.Validate();
        var path = System.IO.Path.GetFullPath(options.Path);
        if (Directory.Exists(path))
            throw new StoreUnavailableException($"database file {path} is a directory");
        if (!File.Exists(path))
        {
            if (!options.CreateIfMissing)
                throw new StoreUnavailableException($"no Gantry store at {path} (start one with `gantry run --db {options.Path}` or submit a job to create it)");
            var dir = System.IO.Path.GetDirectoryName(path);
            if (dir is not null && !Directory.Exists(dir))
                throw new StoreUnavailableException($"cannot create database file {path}: directory {dir} does not exist");
        }
        var store = new SqliteJobStore(options);
        try
        {
            if (options.Migrate) await store.MigrateAsync(ct).ConfigureAwait(false);
            else await store.ReadAsync(store.CheckSchema, ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The database file's absolute path.</summary>
    public string FullPath { get; }

    public string Description => $"sqlite:{FullPath}";

    public bool SupportsCrossProcessNotifications => false;

    public StoreSignals Signals { get; } = new();

    /// <summary>The newest schema version this code knows (what <see cref="MigrateAsync"/> brings a store to).</summary>
    public static int LatestSchemaVersion => SqliteSchema.LatestVersion;

    private bool _disposed => _db.IsDisposed;
    private long NowMs() => _db.NowMs();
    private SqliteCommand Prepared(string sql) => _db.Prepared(sql);
    private RawStatement Raw(string sql) => _db.Raw(sql);
    private Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, CancellationToken ct) => _db.WriteAsync(work, ct);
    private Task<T> ReadAsync<T>(Func<SqliteConnection, T> work, CancellationToken ct) => _db.ReadAsync(work, ct);
    private static void Exec(SqliteConnection c, string sql) => SqliteDatabase.Exec(c, sql);

    public Task MigrateAsync(CancellationToken ct) => _db.WithWriterAsync(c =>
    {
        // Refuse a foreign database before anything is written to it (switching to WAL rewrites the file header).
        ThrowIfForeign(c);
        // WAL lets readers in other processes work while one process writes; it is a property of the file.
        var mode = Scalar(c, "PRAGMA journal_mode = WAL")?.ToString();
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new StoreUnavailableException($"database file {FullPath} could not be switched to WAL mode (it is in {mode} mode)");
        Exec(c, "BEGIN IMMEDIATE");
        try
        {
            if (!ThrowIfForeign(c))
                Exec(c, "CREATE TABLE gantry_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
            var current = Convert.ToInt64(Scalar(c, MigrationSql.Version));
            if (current > SqliteSchema.LatestVersion)
                throw new StoreUnavailableException($"database file {FullPath} has schema version {current}, newer than this Gantry knows ({SqliteSchema.LatestVersion}); upgrade Gantry");
            foreach (var (version, sql) in SqliteSchema.Migrations)
            {
                if (version <= current) continue;
                Exec(c, sql);
                using var record = c.CreateCommand();
                record.CommandText = "INSERT INTO gantry_migrations (version, applied_at) VALUES (@v, @at)";
                record.Parameters.AddWithValue("@v", version);
                record.Parameters.AddWithValue("@at", NowMs());
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
        ReadAsync(c => Convert.ToInt32(Scalar(c, MigrationSql.Version), CultureInfo.InvariantCulture), ct);

    /// <summary>Refuses a file whose schema is missing or at another version than this code's, changing nothing.</summary>
    private bool CheckSchema(SqliteConnection c)
    {
        var version = ThrowIfForeign(c) ? Convert.ToInt64(Scalar(c, MigrationSql.Version)) : 0;
        if (version != SqliteSchema.LatestVersion)
            throw new StoreUnavailableException($"database file {FullPath} is at schema version {version}, this Gantry needs {SqliteSchema.LatestVersion} and was asked not to migrate (run `gantry migrate --db {_options.Path}` or allow migrations)");
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
        if (reader.GetInt64(1) > 0 && !_options.ShareFile)
            throw new StoreUnavailableException($"database file {FullPath} is an SQLite database but not a Gantry store; refusing to change it");
        return false;
    }

    private static object? Scalar(SqliteConnection c, string sql) => SqliteDatabase.Scalar(c, sql);

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
