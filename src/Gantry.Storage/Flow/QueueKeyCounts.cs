using Gantry.Storage;

namespace Gantry.Flow;

/// <summary>
/// A page of a per-key queue's keys from the counts a store reads (<see cref="IStoreFlowLimits.QueueKeysListAsync"/>):
/// which keys the limit holds back, and where the jobs without a key go, decided once for both stores.
/// </summary>
internal static class QueueKeyCounts
{
    /// <summary>A key from its counts: at its limit when the slots its running jobs hold fill the per-key limit while
    /// more of its jobs wait (as <see cref="QueueLimitStatus.KeysAtLimit"/> counts them).</summary>
    public static QueueKeyStatus Status(string? key, long queued, long held, long started, QueueLimits limits) =>
        new(key, queued, held, limits.PerKey is { } perKey && held >= perKey && queued > 0) { StartedInWindow = started };

    /// <summary>The page: the jobs without a key first (<paramref name="unkeyed"/>: read for a first page only), when they
    /// have jobs queued or running (and, for <see cref="QueueKeysQuery.AtLimitOnly"/>, are at the limit); then the keys read
    /// after <see cref="QueueKeysQuery.After"/>, in key order, up to the query's limit.</summary>
    public static QueueKeysPage Page(QueueKeysQuery query, QueueLimits limits, QueueKeyStatus? unkeyed, IEnumerable<QueueKeyStatus> keyed)
    {
        var keys = new List<QueueKeyStatus>(Math.Min(query.Limit, 128));
        if (unkeyed is { } u && (u.Queued > 0 || u.Running > 0) && (!query.AtLimitOnly || u.AtLimit)) keys.Add(u);
        foreach (var k in keyed)
        {
            if (keys.Count >= query.Limit) break;
            if (!query.AtLimitOnly || k.AtLimit) keys.Add(k);
        }
        return QueueKeysPage.Of(query, limits, keys);
    }
}
