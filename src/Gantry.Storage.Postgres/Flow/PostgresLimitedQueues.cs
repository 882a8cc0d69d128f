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
    private volatile IReadOnlySet<string> _perKeyQueues = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The statement whose rows <see cref="ReadAsync"/> takes: read by a claim, before it builds its statements,
    /// when the last read is older than <see cref="LimitedQueues.RefreshEvery"/>.</summary>
    public const string ReadSql = """
        SELECT queue, per_key IS NOT NULL OR key_rate_count IS NOT NULL, coalesce(rate_count, key_rate_count)::bigint,
               CASE WHEN rate_count IS NOT NULL THEN rate_window_ms ELSE key_rate_window_ms END
        FROM queue_limits
        """;

    /// <summary>True when the sets are older than <see cref="LimitedQueues.RefreshEvery"/>, or were invalidated.</summary>
    public bool IsStale => _limited.IsStale;

    /// <summary>Whether <paramref name="queue"/> had limits at the last read.</summary>
    public bool IsLimited(string queue) => _limited.Queues.Contains(queue);

    /// <summary>Whether <paramref name="queue"/> had a per-key limit (of concurrency or rate) at the last read.</summary>
    public bool IsPerKey(string queue) => _perKeyQueues.Contains(queue);

    /// <summary>Takes the rows of <see cref="ReadSql"/> as the queues with limits.</summary>
    public async Task ReadAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var all = new List<string>();
        var perKey = new HashSet<string>(StringComparer.Ordinal);
        var rates = new Dictionary<string, QueueRate>(StringComparer.Ordinal);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            all.Add(r.GetString(0));
            if (r.GetBoolean(1)) perKey.Add(r.GetString(0));
            if (QueueRate.FromStored(r.GetInt64OrNull(2), r.GetInt64OrNull(3)) is { } rate) rates[r.GetString(0)] = rate;
        }
        _perKeyQueues = perKey;
        _limited.Set(all, rates);
    }

    /// <inheritdoc cref="LimitedQueues.WakeAfterShortClaim"/>
    public void WakeAfterShortClaim(string queue, int claimed, AsyncSignal signal) => _limited.WakeAfterShortClaim(queue, claimed, signal);

    /// <summary>Forgets the sets, so the next claim reads them again (after this instance changed limits).</summary>
    public void Invalidate() => _limited.Invalidate();
}
