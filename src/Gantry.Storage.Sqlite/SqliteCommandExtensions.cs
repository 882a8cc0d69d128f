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

    public static long? GetInt64OrNull(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
    public static string? GetStringOrNull(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    public static double? GetDoubleOrNull(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);

    public static DateTimeOffset? GetTimeOrNull(this SqliteDataReader r, int i) =>
        r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    public static DateTimeOffset GetTime(this SqliteDataReader r, int i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
}
