using System.Data.Common;

namespace Gantry.Storage;

/// <summary>An audit entry's row as both stores write, select and read it: <see cref="Columns"/> in the order <see cref="Read"/>
/// reads them and <see cref="Insert"/> binds them.</summary>
internal static class AuditRows<TStore> where TStore : struct, IStoreColumns
{
    public const string Columns = "id, at, actor, action, target, count, detail";

    public const string Insert = $"INSERT INTO audit_log ({Columns}) VALUES (@id, @at, @actor, @action, @target, @count, @detail)";

    public static AuditEntry Read(DbDataReader r) =>
        new(r.GetGuid(0), TStore.Time(r, 1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64OrNull(5), r.GetStringOrNull(6));
}
