using Gantry.Flow;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>The listing of a per-key queue's keys: the indexes the per-key claim reads (job_ready_key, jobs_slots).</summary>
internal sealed partial class PostgresFlowLimits
{
    // A key's starts within the window of the queue's rate per key (@window_ms null without one: none counted).
    private const string KeyStartsSql = """
        (SELECT coalesce(sum(t.n), 0) FROM queue_key_starts AS t
         WHERE t.queue = @queue AND t.concurrency_key = {0} AND t.at > clock_timestamp() - @window_ms::bigint * interval '1 millisecond')
        """;

    // The keys with ready jobs after @after, one descent of job_ready_key each (as the claim's walk finds them; the jobs
    // without a key carry '', before any key), with the keys of the running jobs that hold slots (jobs_slots).
    private static readonly string KeysSql = $"""
        WITH RECURSIVE waiting(k) AS (
          (SELECT r.concurrency_key FROM job_ready AS r
           WHERE r.queue = @queue AND r.concurrency_key > @after ORDER BY r.concurrency_key LIMIT 1)
          UNION ALL
          SELECT (SELECT r.concurrency_key FROM job_ready AS r
                  WHERE r.queue = @queue AND r.concurrency_key > w.k ORDER BY r.concurrency_key LIMIT 1)
          FROM waiting AS w WHERE w.k IS NOT NULL),
        keys(k) AS (
          (SELECT k FROM waiting WHERE k IS NOT NULL LIMIT @limit)
          UNION
          SELECT s.concurrency_key FROM jobs AS s WHERE s.queue = @queue AND s.slot AND s.concurrency_key > @after)
        SELECT keys.k,
               (SELECT count(*) FROM job_ready AS r WHERE r.queue = @queue AND r.concurrency_key = keys.k),
               (SELECT count(*) FROM jobs AS s WHERE s.queue = @queue AND s.concurrency_key = keys.k AND s.slot),
               {string.Format(KeyStartsSql, "keys.k")}
        FROM keys ORDER BY keys.k LIMIT @limit
        """;

    // The keys whose slots fill the per-key limit while their jobs wait: among the running jobs' keys only.
    private static readonly string KeysAtLimitSql = $"""
        SELECT f.k, f.queued, f.held, {string.Format(KeyStartsSql, "f.k")}
        FROM (
          SELECT h.k, h.held, (SELECT count(*) FROM job_ready AS r WHERE r.queue = @queue AND r.concurrency_key = h.k) AS queued
          FROM (SELECT s.concurrency_key AS k, count(*) AS held FROM jobs AS s
                WHERE s.queue = @queue AND s.slot AND s.concurrency_key > @after
                GROUP BY s.concurrency_key HAVING count(*) >= @per_key) AS h) AS f
        WHERE f.queued > 0 ORDER BY f.k LIMIT @limit
        """;

    // The jobs without a key, one key together: ready rows keyed '', running ones over jobs_slots.
    private static readonly string UnkeyedSql = $"""
        SELECT (SELECT count(*) FROM job_ready AS r WHERE r.queue = @queue AND r.concurrency_key = ''),
               (SELECT count(*) FROM jobs AS s WHERE s.queue = @queue AND s.concurrency_key IS NULL AND s.slot),
               {string.Format(KeyStartsSql, "''")}
        """;

    public Task<QueueKeysPage> QueueKeysListAsync(QueueKeysQuery query, CancellationToken ct)
    {
        query = query.Validated();
        return db.RunAsync(async c =>
        {
            var limits = await ReadPerKeyLimitsAsync(c, query.Queue, ct).ConfigureAwait(false);
            var window = limits.RatePerKey is { } rate ? (long?)rate.Per.TotalMilliseconds : null;
            QueueKeyStatus? unkeyed = null;
            if (query.After is null)
            {
                await using var u = Command(c, UnkeyedSql).Bind("@queue", query.Queue).Bind("@window_ms", window, NpgsqlDbType.Bigint);
                await using var r = await u.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await r.ReadAsync(ct).ConfigureAwait(false);
                unkeyed = QueueKeyCounts.Status(null, r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), limits);
            }
            var keyed = new List<QueueKeyStatus>();
            if (!query.AtLimitOnly || limits.PerKey is not null)
            {
                await using var k = Command(c, query.AtLimitOnly ? KeysAtLimitSql : KeysSql).Bind("@queue", query.Queue)
                    .Bind("@window_ms", window, NpgsqlDbType.Bigint).Bind("@after", query.After ?? "").Bind("@limit", query.Limit)
                    .Bind("@per_key", (long)(limits.PerKey ?? 0));
                await using var r = await k.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                    keyed.Add(QueueKeyCounts.Status(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), limits));
            }
            return QueueKeyCounts.Page(query, limits, unkeyed, keyed);
        }, ct);
    }

    /// <summary>The queue's limits; throws when it has none per key (<see cref="QueueNotPerKeyException"/>) or is unknown.</summary>
    private static async Task<QueueLimits> ReadPerKeyLimitsAsync(NpgsqlConnection c, string queue, CancellationToken ct)
    {
        await using var read = Command(c, """
            SELECT concurrency::bigint, per_key::bigint, rate_count::bigint, rate_window_ms, key_rate_count::bigint, key_rate_window_ms
            FROM queue_limits WHERE queue = @queue
            UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE EXISTS (SELECT 1 FROM jobs WHERE queue = @queue)
            LIMIT 1
            """).Bind("@queue", queue);
        await using var r = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) throw new QueueNotFoundException(queue);
        var limits = QueueLimits.FromStored(r.GetInt64OrNull(0), r.GetInt64OrNull(1), r.GetInt64OrNull(2), r.GetInt64OrNull(3), r.GetInt64OrNull(4), r.GetInt64OrNull(5));
        return limits is { IsPerKey: true } ? limits : throw new QueueNotPerKeyException(queue);
    }
}
