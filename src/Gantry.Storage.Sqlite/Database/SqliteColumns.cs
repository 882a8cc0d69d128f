using System.Data.Common;

namespace Gantry.Storage.Sqlite;

/// <summary>How the SQLite store keeps what the stores keep differently: timestamps as Unix milliseconds, JSON and lists as
/// JSON text, a job's lease in its row.</summary>
internal readonly struct SqliteColumns : IStoreColumns
{
    public static DateTimeOffset Time(DbDataReader r, int i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    public static string JsonText(string column) => column;

    public static string ListJsonText(string column) => column;

    public static string ByteLength(string column) => $"length({column})";

    public static string LeaseUntil => "lease_until";
}
