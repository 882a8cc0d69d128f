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
    private readonly SqliteStoreOptions _options;
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);
    private SqliteConnection? _write;
    private bool _disposed;

    private SqliteJobStore(SqliteStoreOptions options)
    {
        _options = options;
        _time = options.Time;
        FullPath = System.IO.Path.GetFullPath(options.Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FullPath,
            Mode = options.CreateIfMissing ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
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

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // Ephemeral tables (the claim's IN list, RETURNING rows) stay in memory, never in temp files;
        // a 64 MiB page cache (SQLite's default is 2 MiB) keeps a large backlog's hot pages in memory.
        Exec(c, "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;");
        BusyWait.Install(c.Handle!, _options.BusyTimeout);
        return c;
    }

    private SqliteConnection OpenWriter() => _write = Open();

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>A prepared command on the write connection, kept for reuse (call only under the write lock).</summary>
    private SqliteCommand Prepared(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = _write!.CreateCommand();
            cmd.CommandText = sql;
            _prepared[sql] = cmd;
        }
        return cmd;
    }

    /// <summary>A statement on the write connection for the hot paths, prepared once (call only under the write lock).</summary>
    private RawStatement Raw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(_write!.Handle!, sql);
            _raw[sql] = statement;
        }
        return statement;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE … COMMIT).</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var c = _write ?? OpenWriter();
            Raw("BEGIN IMMEDIATE").Execute();
            try
            {
                var result = work(c);
                Raw("COMMIT").Execute();
                return result;
            }
            catch
            {
                try { Exec(c, "ROLLBACK"); } catch (SqliteException) { /* already rolled back by SQLite */ }
                throw;
            }
        }
        catch (SqliteException ex)
        {
            throw SqliteErrors.Translate(ex, FullPath);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled read connection.</summary>
    private Task<T> ReadAsync<T>(Func<SqliteConnection, T> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ct.ThrowIfCancellationRequested();
        try
        {
            using var c = Open();
            return Task.FromResult(work(c));
        }
        catch (SqliteException ex)
        {
            throw SqliteErrors.Translate(ex, FullPath);
        }
    }

    public async Task MigrateAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var c = _write ??= Open();
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
        }
        catch (SqliteException ex)
        {
            throw SqliteErrors.Translate(ex, FullPath);
        }
        finally
        {
            _writeLock.Release();
        }
    }

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

    private static object? Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            foreach (var cmd in _prepared.Values) cmd.Dispose();
            _prepared.Clear();
            foreach (var statement in _raw.Values) statement.Dispose();
            _raw.Clear();
            _write?.Dispose();
            _write = null;
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
