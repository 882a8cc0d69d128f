using System.Data.Common;

namespace Gantry.Storage;

/// <summary>An alert delivery due, as both stores select and read it from <c>alert_outbox</c>.</summary>
internal static class AlertRows<TStore> where TStore : struct, IStoreColumns
{
    /// <summary>The deliveries due at <c>@now</c>, oldest turn first, up to <c>@limit</c>, in the order <see cref="Read"/> reads them.</summary>
    public const string Due = """
        SELECT id, webhook, event, body, attempts, created_at FROM alert_outbox
        WHERE next_at IS NOT NULL AND next_at <= @now ORDER BY next_at, created_at LIMIT @limit
        """;

    public static AlertDelivery Read(DbDataReader r) =>
        new(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), TStore.Time(r, 5));
}
