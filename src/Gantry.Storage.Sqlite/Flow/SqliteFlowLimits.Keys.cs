using Gantry.Flow;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>The listing of a per-key queue's keys, on a read connection: the indexes the per-key claim reads.</summary>
internal sealed partial class SqliteFlowLimits
{
    // The keys with queued jobs after @after, one descent of jobs_key_claim each (as the claim's walk finds them), with the
    // keys of the running jobs that hold slots (jobs_slots); each counted over the same indexes.
    private const string KeysSql = """
        WITH RECURSIVE waiting(k) AS (
          SELECT (SELECT x.concurrency_key FROM jobs AS x
                  WHERE x.state = 'queued' AND x.queue = @queue AND x.concurrency_key > @after ORDER BY x.concurrency_key LIMIT 1)
          UNION ALL
          SELECT (SELECT x.concurrency_key FROM jobs AS x
                  WHERE x.state = 'queued' AND x.queue = @queue AND x.concurrency_key > w.k ORDER BY x.concurrency_key LIMIT 1)
          FROM waiting AS w WHERE w.k IS NOT NULL
          LIMIT @limit),
        keys(k) AS (
          SELECT k FROM waiting WHERE k IS NOT NULL
          UNION
          SELECT s.concurrency_key FROM jobs AS s WHERE s.queue = @queue AND s.slot = 1 AND s.state = 'running' AND s.concurrency_key > @after)
        SELECT k,
               (SELECT count(*) FROM jobs AS q WHERE q.state = 'queued' AND q.queue = @queue AND q.concurrency_key = keys.k),
               (SELECT count(*) FROM jobs AS s WHERE s.queue = @queue AND s.slot = 1 AND s.state = 'running' AND s.concurrency_key = keys.k),
               (SELECT coalesce(sum(t.n), 0) FROM queue_key_starts AS t WHERE t.queue = @queue AND t.concurrency_key = keys.k AND t.at > @since)
        FROM keys ORDER BY k LIMIT @limit
        """;

    // The keys whose slots fill the per-key limit while their jobs wait: among the running jobs' keys only.
    private const string KeysAtLimitSql = """
        SELECT f.k, f.queued, f.held,
               (SELECT coalesce(sum(t.n), 0) FROM queue_key_starts AS t WHERE t.queue = @queue AND t.concurrency_key = f.k AND t.at > @since)
        FROM (
          SELECT h.k, h.held,
                 (SELECT count(*) FROM jobs AS q WHERE q.state = 'queued' AND q.queue = @queue AND q.concurrency_key = h.k) AS queued
          FROM (SELECT s.concurrency_key AS k, count(*) AS held FROM jobs AS s
                WHERE s.queue = @queue AND s.slot = 1 AND s.state = 'running' AND s.concurrency_key > @after
                GROUP BY s.concurrency_key HAVING count(*) >= @per_key) AS h) AS f
        WHERE f.queued > 0 ORDER BY f.k LIMIT @limit
        """;

    // The jobs without a key, one key together: queued ones over jobs_unkeyed_claim, running ones over jobs_slots.
    private const string UnkeyedSql = """
        SELECT (SELECT count(*) FROM jobs INDEXED BY jobs_unkeyed_claim WHERE state = 'queued' AND unkeyed_turn = 1 AND queue = @queue),
               (SELECT count(*) FROM jobs WHERE queue = @queue AND concurrency_key IS NULL AND slot = 1 AND state = 'running'),
               (SELECT coalesce(sum(n), 0) FROM queue_key_starts WHERE queue = @queue AND concurrency_key = '' AND at > @since)
        """;

    public Task<QueueKeysPage> QueueKeysListAsync(QueueKeysQuery query, CancellationToken ct)
    {
        query = query.Validated();
        return db.ReadAsync(c =>
        {
            var limits = ReadLimits(c, query.Queue);
            var since = limits.RatePerKey is { } rate ? db.NowMs() - (long)rate.Per.TotalMilliseconds : long.MaxValue;
            QueueKeyStatus? unkeyed = null;
            if (query.After is null)
            {
                using var u = Command(c, UnkeyedSql, query, since);
                using var r = u.ExecuteReader();
                r.Read();
                unkeyed = QueueKeyCounts.Status(null, r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), limits);
            }
            var keyed = new List<QueueKeyStatus>();
            if (!query.AtLimitOnly || limits.PerKey is not null)
            {
                using var k = Command(c, query.AtLimitOnly ? KeysAtLimitSql : KeysSql, query, since);
                k.Parameters.AddWithValue("@after", query.After ?? "");
                k.Parameters.AddWithValue("@limit", query.Limit);
                k.Parameters.AddWithValue("@per_key", limits.PerKey ?? 0);
                using var r = k.ExecuteReader();
                while (r.Read()) keyed.Add(QueueKeyCounts.Status(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), limits));
            }
            return QueueKeyCounts.Page(query, limits, unkeyed, keyed);
        }, ct);
    }

    /// <summary>The queue's limits; throws when it has none per key (<see cref="QueueNotPerKeyException"/>) or is unknown.</summary>
    private static QueueLimits ReadLimits(SqliteConnection c, string queue)
    {
        using var read = c.CreateCommand();
        read.CommandText = """
            SELECT concurrency, per_key, rate_count, rate_window_ms, key_rate_count, key_rate_window_ms FROM queue_limits WHERE queue = @queue
            UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE EXISTS (SELECT 1 FROM jobs WHERE queue = @queue)
            LIMIT 1
            """;
        read.Parameters.AddWithValue("@queue", queue);
        using var r = read.ExecuteReader();
        if (!r.Read()) throw new QueueNotFoundException(queue);
        static long? At(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
        var limits = QueueLimits.FromStored(At(r, 0), At(r, 1), At(r, 2), At(r, 3), At(r, 4), At(r, 5));
        return limits is { IsPerKey: true } ? limits : throw new QueueNotPerKeyException(queue);
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, QueueKeysQuery query, long since)
    {
        var command = c.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@queue", query.Queue);
        command.Parameters.AddWithValue("@since", since);
        return command;
    }
}
