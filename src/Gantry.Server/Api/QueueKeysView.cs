namespace Gantry.Server.Api;

/// <summary>A page of a per-key queue's concurrency keys as the API (<c>GET /api/v1/queues/{name}/keys</c>) and
/// <c>gantry queues keys NAME --json</c> show it (docs/flow-control.md, "Which keys").</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="PerKey">Its per-key limit; null without one.</param>
/// <param name="RatePerKey">Its rate per key (<c>5/s</c>); null without one.</param>
/// <param name="Keys">The keys in key order (their UTF-8 bytes'); the jobs without a key, which take turns as one key, first and without <c>key</c>.</param>
/// <param name="NextAfter">When the page is full, the <c>after</c> that asks for the next one; null at the end.</param>
public sealed record QueueKeysView(string Queue, int? PerKey, string? RatePerKey, QueueKeyView[] Keys, string? NextAfter)
{
    /// <summary>The view of a page a store read.</summary>
    public static QueueKeysView From(Gantry.Flow.QueueKeysPage page) => new(page.Queue, page.Limits.PerKey, page.Limits.RatePerKey?.ToString(),
        [.. page.Keys.Select(k => new QueueKeyView(k.Key, k.Queued, k.Running, k.AtLimit, k.StartedInWindow))], page.NextAfter);
}

/// <summary>One key of a per-key queue.</summary>
/// <param name="Key">The key; null (left out) for the jobs without a key.</param>
/// <param name="Queued">Its jobs waiting to be claimed.</param>
/// <param name="Running">Its running jobs, each holding a slot of the per-key limit.</param>
/// <param name="AtLimit">Its running jobs fill the per-key limit while more of its jobs wait: the limit holds it back now.</param>
/// <param name="StartedInWindow">Its starts within the window of the rate per key (0 without one).</param>
public sealed record QueueKeyView(string? Key, long Queued, long Running, bool AtLimit, long StartedInWindow);
