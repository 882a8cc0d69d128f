using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// Folds the rows of a store's per-(queue, state) aggregate into <see cref="QueueStats"/>, so both
/// stores need only the one GROUP BY query and the paused queues.
/// </summary>
internal sealed class QueueStatsBuilder
{
    private readonly SortedDictionary<string, (Dictionary<JobState, long> Counts, long Recent, long RecentDead, DateTimeOffset? Oldest)> _queues = new(StringComparer.Ordinal);

    /// <summary>One aggregate row: how many jobs of <paramref name="queue"/> are in <paramref name="state"/>, how many of
    /// them finished within <see cref="QueueStats.RecentWindow"/>, and the earliest due time among them.</summary>
    public void Add(string queue, JobState state, long count, long finishedRecently, DateTimeOffset? earliestDue)
    {
        var q = Get(queue);
        q.Counts[state] = count;
        if (state == JobState.Succeeded) q.Recent = finishedRecently;
        if (state == JobState.Dead) q.RecentDead = finishedRecently;
        if (state == JobState.Queued) q.Oldest = earliestDue;
        _queues[queue] = q;
    }

    public IReadOnlyList<QueueStats> Build(IReadOnlySet<string> paused)
    {
        foreach (var queue in paused) _queues[queue] = Get(queue);
        return _queues.Select(kv => new QueueStats(kv.Key, kv.Value.Counts, paused.Contains(kv.Key))
        {
            SucceededRecently = kv.Value.Recent,
            DeadRecently = kv.Value.RecentDead,
            OldestQueuedAt = kv.Value.Oldest,
        }).ToArray();
    }

    private (Dictionary<JobState, long> Counts, long Recent, long RecentDead, DateTimeOffset? Oldest) Get(string queue) =>
        _queues.TryGetValue(queue, out var q) ? q : (new Dictionary<JobState, long>(), 0, 0, null);
}
