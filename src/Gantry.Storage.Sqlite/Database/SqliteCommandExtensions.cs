using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

internal static class SqliteCommandExtensions
{
    /// <summary>Sets a parameter on a reused command, adding it the first time.</summary>
    public static SqliteCommand Bind(this SqliteCommand cmd, string name, object? value)
    {
        var index = cmd.Parameters.IndexOf(name);
        if (index < 0) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        else cmd.Parameters[index].Value = value ?? DBNull.Value;
        return cmd;
    }

    public static DateTimeOffset? GetTimeOrNull(this SqliteDataReader r, int i) => r.GetTimeOrNull<SqliteColumns>(i);

    public static DateTimeOffset GetTime(this SqliteDataReader r, int i) => SqliteColumns.Time(r, i);
}
