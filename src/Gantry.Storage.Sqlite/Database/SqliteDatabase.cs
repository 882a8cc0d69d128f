using Gantry.Storage.Sqlite.Native;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// What every part of the SQLite store shares, and the only holder of its connections: the options, the clock, the
/// one write connection behind its async lock with the statements prepared on it, pooled read connections, and the
/// translation of SQLite's errors. Every write transaction starts with <c>BEGIN IMMEDIATE</c>, so that two processes
/// never deadlock upgrading a read lock, and waits out the other's lock up to the busy timeout.
/// </summary>
internal sealed class SqliteDatabase : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);
    private SqliteConnection? _write;
    private bool _disposed;

    public SqliteDatabase(SqliteStoreOptions options)
    {
        Options = options;
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

    /// <summary>The options the store was opened with (validated).</summary>
    public SqliteStoreOptions Options { get; }

    /// <summary>The database file's absolute path, as error messages name it.</summary>
    public string FullPath { get; }

    /// <summary>True once the store is disposed; an in-flight task that outlives it checks this before it signals.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The store's clock (<see cref="SqliteStoreOptions.Time"/>).</summary>
    public TimeProvider Time => _time;

    /// <summary>Now on the store's clock, in Unix milliseconds (how every time column is kept).</summary>
    public long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the store once it is disposed.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, typeof(SqliteJobStore));

    /// <summary>Turns a <see cref="SqliteException"/> into the one-line error that names this file.</summary>
    public GantryException Translate(SqliteException ex) => SqliteErrors.Translate(ex, FullPath);

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // Ephemeral tables (the claim's IN list, RETURNING rows) stay in memory, never in temp files;
        // a 64 MiB page cache (SQLite's default is 2 MiB) keeps a large backlog's hot pages in memory.
        Exec(c, "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;");
        BusyWait.Install(c.Handle!, Options.BusyTimeout);
        return c;
    }

    private SqliteConnection OpenWriter()
    {
        var c = Open();
        // The write connection's statements are prepared once and run thousands of times a second with new values. Without
        // the query planner stability guarantee SQLite may let a bound value shape a statement's plan, and then prepares the
        // statement again whenever that value changes: the per-key claim's walk (a new key bound for every key it walks)
        // and its claim (a new list of jobs) were prepared anew on every run, about two thirds of the walk's time. Each
        // plan is now the one made for the statement's text alone. Reads keep the default: their statements are prepared
        // per call anyway, and a job listing's `state = @state` may then use the partial index of that state.
        raw.sqlite3_db_config(c.Handle!, raw.SQLITE_DBCONFIG_ENABLE_QPSG, 1, out _);
        return _write = c;
    }

    /// <summary>Runs one statement that returns nothing on <paramref name="c"/>.</summary>
    public static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row of <paramref name="sql"/> on <paramref name="c"/>, or null.</summary>
    public static object? Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>A prepared command on the write connection, kept for reuse (call only under the write lock).</summary>
    public SqliteCommand Prepared(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = _write!.CreateCommand();
            cmd.CommandText = sql;
            _prepared[sql] = cmd;
        }
        return cmd;
    }

    /// <summary>How many times SQLite prepared the write connection's statements again (for the tests: the plans must not
    /// depend on bound values, see <see cref="OpenWriter"/>).</summary>
    internal long Reprepared() => _raw.Values.Sum(s => (long)s.Reprepared);

    /// <summary>A statement on the write connection for the hot paths, prepared once (call only under the write lock).</summary>
    public RawStatement Raw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(_write!.Handle!, sql);
            _raw[sql] = statement;
        }
        return statement;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE … COMMIT) under the write lock;
    /// an exception rolls it back.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, CancellationToken ct)
    {
        ThrowIfDisposed();
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
            throw Translate(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the write connection under the write lock, outside any transaction
    /// (<paramref name="work"/> manages its own: the schema's migration, which first switches the file to WAL).</summary>
    public async Task WithWriterAsync(Action<SqliteConnection> work, CancellationToken ct)
    {
        ThrowIfDisposed();
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            work(_write ?? OpenWriter());
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled read connection.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, T> work, CancellationToken ct)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        try
        {
            using var c = Open();
            return Task.FromResult(work(c));
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Closes the write connection and its statements once the write in flight, if any, has ended.</summary>
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
