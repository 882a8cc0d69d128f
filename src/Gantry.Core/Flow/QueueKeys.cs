using Gantry.Protocol;

namespace Gantry.Flow;

/// <summary>
/// A page of a per-key queue's concurrency keys (<c>gantry queues keys NAME</c>, <c>GET /api/v1/queues/{name}/keys</c>):
/// the keys with jobs queued or running, in key order (their UTF-8 bytes'), the jobs without a key first.
/// </summary>
/// <param name="Queue">The queue's name.</param>
public sealed record QueueKeysQuery(string Queue)
{
    /// <summary>Keys a page holds unless told otherwise.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The most keys one page may hold.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Only keys after this one: a page's <see cref="QueueKeysPage.NextAfter"/>; <c>""</c> is just after the jobs
    /// without a key. Null: from the start.</summary>
    public string? After { get; init; }

    /// <summary>At most this many keys, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>Only the keys the per-key limit holds back now (<see cref="QueueKeyStatus.AtLimit"/>): those counted by
    /// <see cref="QueueLimitStatus.KeysAtLimit"/>.</summary>
    public bool AtLimitOnly { get; init; }

    /// <summary>Throws <see cref="InvalidInputException"/> naming the field (<c>name</c>, <c>after</c>, <c>limit</c>) that is wrong.</summary>
    public QueueKeysQuery Validated()
    {
        JobDraft.CheckName(Queue, "name");
        // "" (just after the jobs without a key) or a key.
        if (After is { Length: > 0 } after) JobDraft.CheckConcurrencyKey(after, "after");
        if (Limit is < 1 or > MaxLimit) throw new InvalidInputException("limit", $"must be a whole number between 1 and {MaxLimit}, got {Limit}");
        return this;
    }
}

/// <summary>One concurrency key of a per-key queue, as the limit counts it now.</summary>
/// <param name="Key">The key; null for the queue's jobs without a key, which take turns as one key.</param>
/// <param name="Queued">Its jobs waiting to be claimed.</param>
/// <param name="Running">Its running jobs that hold a slot of the per-key limit.</param>
/// <param name="AtLimit">Its running jobs fill the per-key limit while more of its jobs wait: the limit holds it back now.</param>
public sealed record QueueKeyStatus(string? Key, long Queued, long Running, bool AtLimit)
{
    /// <summary>Its starts within the window of the queue's rate per key (0 without one).</summary>
    public long StartedInWindow { get; init; }
}

/// <summary>A page of keys, with the queue's limits.</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Limits">Its limits as set.</param>
/// <param name="Keys">The keys, in key order; the jobs without a key (<see cref="QueueKeyStatus.Key"/> null) first.</param>
/// <param name="NextAfter">When the page is full, the <see cref="QueueKeysQuery.After"/> of the next one (<c>""</c> when the
/// page ends with the jobs without a key); null when there is no more.</param>
public sealed record QueueKeysPage(string Queue, QueueLimits Limits, IReadOnlyList<QueueKeyStatus> Keys, string? NextAfter)
{
    /// <summary>The page of <paramref name="keys"/> read for <paramref name="query"/>.</summary>
    public static QueueKeysPage Of(QueueKeysQuery query, QueueLimits limits, IReadOnlyList<QueueKeyStatus> keys) =>
        new(query.Queue, limits, keys, keys.Count >= query.Limit ? keys[^1].Key ?? "" : null);
}

/// <summary>The keys of a queue were asked for, but it has no per-key limit (nor rate per key): its keys are not counted.</summary>
public sealed class QueueNotPerKeyException(string queue)
    : GantryException($"queue '{queue}' has no per-key limit nor rate per key: its keys are counted only under one")
{
    /// <summary>The queue asked for.</summary>
    public string Queue { get; } = queue;
}
