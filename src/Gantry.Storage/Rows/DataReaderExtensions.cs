using System.Data.Common;

namespace Gantry.Storage;

/// <summary>Nullable reads by ordinal, for every store's reader.</summary>
internal static class DataReaderExtensions
{
    public static long? GetInt64OrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);

    public static int? GetInt32OrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);

    public static string? GetStringOrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static double? GetDoubleOrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);

    public static Guid? GetGuidOrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetGuid(i);

    /// <summary>A column of milliseconds as a duration.</summary>
    public static TimeSpan? GetMillisecondsOrNull(this DbDataReader r, int i) => r.IsDBNull(i) ? null : TimeSpan.FromMilliseconds(r.GetInt64(i));

    /// <summary>Timestamp column <paramref name="i"/> as the store keeps it, or null.</summary>
    public static DateTimeOffset? GetTimeOrNull<TStore>(this DbDataReader r, int i) where TStore : struct, IStoreColumns =>
        r.IsDBNull(i) ? null : TStore.Time(r, i);
}
