using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>Turns SQLite's errors into one-line <see cref="GantryException"/>s; nothing above the store sees a SqliteException.</summary>
internal static class SqliteErrors
{
    // SQLite primary result codes (sqlite3.h).
    private const int Busy = 5, Locked = 6, ReadOnly = 8, IoErr = 10, Corrupt = 11, Full = 13, CantOpen = 14, NotADb = 26, Perm = 3, TooBig = 18, Mismatch = 20;

    public static GantryException Translate(SqliteException ex, string path) => (ex.SqliteErrorCode & 0xff) switch
    {
        Busy or Locked => new StoreUnavailableException($"database file {path} is locked by another process (waited for the busy timeout); try again", ex),
        ReadOnly or Perm => new StoreUnavailableException($"database file {path} cannot be written: {Reason(ex)}", ex),
        Corrupt or NotADb => new StoreUnavailableException($"database file {path} is corrupt or not an SQLite database: {Reason(ex)}", ex),
        CantOpen => new StoreUnavailableException($"database file {path} cannot be opened: {Reason(ex)} (check the path and its permissions)", ex),
        Full => new StoreUnavailableException($"database file {path}: the disk is full", ex),
        IoErr => new StoreUnavailableException($"database file {path}: I/O error: {Reason(ex)}", ex),
        // The value, not the file, is the problem: writing it again is refused again.
        TooBig or Mismatch => new CoordinatorRefusedException($"database file {path} refused a value: {Reason(ex)}", ex),
        _ => new StoreUnavailableException($"database file {path}: {Reason(ex)}", ex),
    };

    private static string Reason(SqliteException ex)
    {
        var m = ex.Message;
        const string prefix = "SQLite Error ";
        if (m.StartsWith(prefix, StringComparison.Ordinal))
        {
            var colon = m.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0) m = m[(colon + 2)..];
        }
        return m.Trim().Trim('\'').TrimEnd('.');
    }
}
