using Gantry.Flow;
using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// Which queues have flow limits, and which of them limit per key, as this store instance last read them. Owned by
/// <see cref="PostgresFlowLimits"/> (a change of limits here invalidates it) and read by every claim
/// (<see cref="PostgresClaims"/>), which reads it again, in its own transaction, when it is stale. A plain claim takes
/// nothing from a queue that has limits meanwhile (its NOT EXISTS), so a stale read never lets a limit be passed.
/// Thread-safe: a read replaces the sets whole.
/// </summary>
internal sealed class PostgresLimitedQueues
{
    private readonly LimitedQueues _limited = new(TimeProvider.System);

    /// <summary>The statement whose rows <see cref="ReadAsync"/> takes: read by a claim, before it builds its statements,
    /// when the last read is older than <see cref="LimitedQueues.RefreshEvery"/>.</summary>
    public const string ReadSql = """
        SELECT queue, concurrency::bigint, per_key::bigint, rate_count::bigint, rate_window_ms, key_rate_count::bigint, key_rate_window_ms
        FROM queue_limits
        """;

    /// <summary>True when the sets are older than <see cref="LimitedQueues.RefreshEvery"/>, or were invalidated.</summary>
    public bool IsStale => _limited.IsStale;

    /// <summary>Whether <paramref name="queue"/> had limits at the last read.</summary>
    public bool IsLimited(string queue) => _limited.Queues.Contains(queue);

    /// <summary>Whether <paramref name="queue"/> had a per-key limit (of concurrency or rate) at the last read.</summary>
    public bool IsPerKey(string queue) => _limited.PerKey.Contains(queue);

    /// <summary>Takes the rows of <see cref="ReadSql"/> as the queues with limits.</summary>
    public async Task ReadAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var all = new List<(string, QueueLimits)>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            if (QueueLimits.FromStored(r.GetInt64OrNull(1), r.GetInt64OrNull(2), r.GetInt64OrNull(3), r.GetInt64OrNull(4), r.GetInt64OrNull(5), r.GetInt64OrNull(6)) is { } limits)
                all.Add((r.GetString(0), limits));
        _limited.Set(all);
    }

    /// <inheritdoc cref="LimitedQueues.WakeAfterShortClaim"/>
    public void WakeAfterShortClaim(string queue, int claimed, AsyncSignal signal) => _limited.WakeAfterShortClaim(queue, claimed, signal);

    /// <summary>Forgets the sets, so the next claim reads them again (after this instance changed limits).</summary>
    public void Invalidate() => _limited.Invalidate();
}
