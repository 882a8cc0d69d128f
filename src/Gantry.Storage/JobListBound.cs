namespace Gantry.Storage;

/// <summary>
/// How the kept counts bound a job list filtered by state, the same in both stores. The list reads newest first by the
/// row key and no index holds the state (every claim and completion changes it), so a rare state walks far and a state
/// no job is in walks the whole history. The counts per queue and state (O(queues), exact after every transition) are
/// read first, in the list's own snapshot: none in the state (in the queue asked for) answers an empty page without a
/// walk, and fewer than a page ends the walk once it has found them all.
/// </summary>
internal static class JobListBound
{
    /// <summary>The rows to read: <paramref name="limit"/>, or the jobs in the state when that is fewer (0: read nothing).
    /// <paramref name="inState"/> is null where the store keeps no count for the state.</summary>
    public static int Limit(int limit, long? inState) => inState is { } n && n < limit ? (int)Math.Max(0, n) : limit;
}
