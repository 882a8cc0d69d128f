using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Gantry.Storage.Sqlite.Native;

/// <summary>
/// A prepared statement driven through SQLite's C API directly. Microsoft.Data.Sqlite costs about
/// 8 µs per execution on top of SQLite's own work, which caps a job queue near 35,000 jobs/s;
/// the hot statements (enqueue, claim, complete) use this instead and reach SQLite's own speed.
/// Errors surface as <see cref="SqliteException"/>, like the rest of the store's.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;
    private readonly Dictionary<string, int> _parameters = new(StringComparer.Ordinal);

    public RawStatement(sqlite3 db, string sql)
    {
        _db = db;
        Check(raw.sqlite3_prepare_v2(db, sql, out _stmt));
        var count = raw.sqlite3_bind_parameter_count(_stmt);
        for (var i = 1; i <= count; i++)
            _parameters[raw.sqlite3_bind_parameter_name(_stmt, i).utf8_to_string()] = i;
    }

    private int Index(string name) =>
        _parameters.TryGetValue(name, out var i) ? i : throw new ArgumentException($"the statement has no parameter {name}", nameof(name));

    public RawStatement Bind(string name, string? value)
    {
        var i = Index(name);
        Check(value is null ? raw.sqlite3_bind_null(_stmt, i) : raw.sqlite3_bind_text(_stmt, i, value));
        return this;
    }

    public RawStatement Bind(string name, long? value)
    {
        var i = Index(name);
        Check(value is { } v ? raw.sqlite3_bind_int64(_stmt, i, v) : raw.sqlite3_bind_null(_stmt, i));
        return this;
    }

    /// <summary>How many times SQLite prepared this statement again since it was first prepared (SQLITE_STMTSTATUS_REPREPARE).</summary>
    public int Reprepared => raw.sqlite3_stmt_status(_stmt, StmtStatusReprepare, 0);

    private const int StmtStatusReprepare = 5; // SQLITE_STMTSTATUS_REPREPARE

    /// <summary>Runs one step: true when a row is ready to read, false when done.</summary>
    public bool Step()
    {
        var rc = raw.sqlite3_step(_stmt);
        if (rc == raw.SQLITE_ROW) return true;
        if (rc == raw.SQLITE_DONE) return false;
        raw.sqlite3_reset(_stmt);
        throw Error(rc);
    }

    /// <summary>Runs to completion; returns the rows changed.</summary>
    public int Execute()
    {
        try
        {
            while (Step()) { }
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>Runs the statement for its one row (a count, a sum) and reads its first column as a number.</summary>
    public long ReadInt64()
    {
        try
        {
            Step();
            return GetInt64(0);
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>The row key of the last row this connection inserted.</summary>
    public long LastInsertRowId => raw.sqlite3_last_insert_rowid(_db);

    /// <summary>Makes the statement ready to run again, its parameters cleared.</summary>
    public void Reset()
    {
        raw.sqlite3_reset(_stmt);
        raw.sqlite3_clear_bindings(_stmt);
    }

    public bool IsNull(int column) => raw.sqlite3_column_type(_stmt, column) == raw.SQLITE_NULL;
    public long GetInt64(int column) => raw.sqlite3_column_int64(_stmt, column);
    public int GetInt32(int column) => raw.sqlite3_column_int(_stmt, column);
    public string GetString(int column) => raw.sqlite3_column_text(_stmt, column).utf8_to_string();
    public string? GetStringOrNull(int column) => IsNull(column) ? null : GetString(column);

    /// <summary>The text of <paramref name="column"/>, as <paramref name="last"/> when it is the same ASCII text (no new
    /// string: a claim's jobs mostly share their type, queue and payload); else a new string, kept in <paramref name="last"/>.</summary>
    public string GetString(int column, ref string? last)
    {
        var utf8 = raw.sqlite3_column_blob(_stmt, column); // a text's bytes, as stored (UTF-8)
        if (last is not null && System.Text.Ascii.Equals(utf8, last)) return last;
        return last = System.Text.Encoding.UTF8.GetString(utf8);
    }

    /// <summary>A GUID stored as its text, read without making the string.</summary>
    public Guid GetGuid(int column) =>
        System.Buffers.Text.Utf8Parser.TryParse(raw.sqlite3_column_blob(_stmt, column), out Guid id, out _)
            ? id
            : throw new FormatException($"column {column} holds no GUID");
    public long? GetInt64OrNull(int column) => IsNull(column) ? null : GetInt64(column);
    public byte[]? GetBytesOrNull(int column) => IsNull(column) ? null : raw.sqlite3_column_blob(_stmt, column).ToArray();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) throw Error(rc);
    }

    private SqliteException Error(int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_db));

    public void Dispose() => raw.sqlite3_finalize(_stmt);
}
