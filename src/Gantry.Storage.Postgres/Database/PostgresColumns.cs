using System.Data.Common;

namespace Gantry.Storage.Postgres;

/// <summary>How the PostgreSQL store keeps what the stores keep differently: timestamps as timestamptz (read in UTC), JSON as
/// jsonb and lists as text arrays (both selected as JSON text), a job's lease in <c>job_leases</c>.</summary>
internal readonly struct PostgresColumns : IStoreColumns
{
    public static DateTimeOffset Time(DbDataReader r, int i) => new(DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc));

    public static string JsonText(string column) => $"{column}::text";

    public static string ListJsonText(string column) => $"array_to_json({column})::text";

    public static string ByteLength(string column) => $"octet_length({column})";

    public static string LeaseUntil => PostgresLeases.LeaseUntilColumn;
}
