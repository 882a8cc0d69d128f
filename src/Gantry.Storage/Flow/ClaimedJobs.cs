using System.Collections;
using Gantry.Storage;

namespace Gantry.Flow;

/// <summary>
/// What a store's claim returns: the jobs, and the queues whose claim a flow limit may have cut short
/// (<see cref="HeldBack"/>). A worker takes a queue that came back short for empty and looks again at its
/// poll interval; a held-back queue is not empty, only full for now, and is looked at again as soon as
/// slots may have freed. Every link carries it: the server's fetch answer (<c>held_back</c>) and a node's Fetch
/// answer (after the jobs). A result that does not say (a plain list) makes every short queue count as empty.
/// </summary>
public sealed class ClaimedJobs(IReadOnlyList<ClaimedJob> jobs, IReadOnlyCollection<string> heldBack) : IReadOnlyList<ClaimedJob>
{
    /// <summary>Limited queues whose claim came back short of the demand: their limits left no more room for now
    /// (or they ran out of jobs; a store does not tell the two apart at the cost of another read).</summary>
    public IReadOnlyCollection<string> HeldBack { get; } = heldBack;

    /// <inheritdoc/>
    public int Count => jobs.Count;
    /// <inheritdoc/>
    public ClaimedJob this[int index] => jobs[index];
    /// <inheritdoc/>
    public IEnumerator<ClaimedJob> GetEnumerator() => jobs.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The held-back queues of a claim's result; empty for a result that does not say.</summary>
    public static IReadOnlyCollection<string> HeldBackOf(IReadOnlyList<ClaimedJob> claimed) =>
        claimed is ClaimedJobs c ? c.HeldBack : [];
}
