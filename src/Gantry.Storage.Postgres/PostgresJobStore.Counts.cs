using Gantry.Jobs;

namespace Gantry.Storage.Postgres;

// Counts per (queue, state), kept exact by every transition (PostgresSchema migration 15): queued and running together
// as 'active' (a claim changes nothing; queued is counted from job_ready, running is the rest), the triggers on jobs
// count every other transition but the success, which counts itself once per statement (below). Writers only append
// to queue_count_deltas, so concurrent report batches never wait on a shared counter row; the store upkeep folds the
// deltas into queue_counts, and a read adds what is not folded yet.
public sealed partial class PostgresJobStore
{
    /// <summary>
    /// A data-modifying CTE that counts the successes of <paramref name="cte"/> (which returns their <c>queue</c>), one row per
    /// queue whatever the number of jobs, under the pseudo-state <see cref="DoneState"/>: each is a job that left 'active' for
    /// succeeded (a read and the fold take it so), which costs the completion one row instead of two.
    /// </summary>
    internal static string CountSucceededSql(string cte, string at) => $"""
        INSERT INTO queue_count_deltas (queue, state, n, at) SELECT queue, '{DoneState}', count(*), {at}::timestamptz FROM {cte} GROUP BY queue
        """;

    /// <summary>Successes counted by the completion statement: active − n, succeeded + n.</summary>
    internal const string DoneState = "done";

    // One statement: the deltas go (only those this snapshot sees: later ones wait for the next round) into the counts
    // and, for entries into succeeded and dead, into per-second rows; rows older than the recent window's twice go.
    private static readonly string FoldCountsSql = $"""
        WITH d AS (
          DELETE FROM queue_count_deltas RETURNING queue, state, n, at),
        counted AS (
          INSERT INTO queue_counts (queue, state, n) SELECT queue, state, sum(n) FROM d GROUP BY queue, state
          ON CONFLICT (queue, state) DO UPDATE SET n = queue_counts.n + excluded.n),
        finished AS (
          INSERT INTO queue_finished (queue, state, at, n)
            SELECT queue, CASE WHEN state = '{DoneState}' THEN '{JobState.Succeeded.ToText()}' ELSE state END, date_trunc('second', at), sum(n)
            FROM d WHERE at IS NOT NULL AND n > 0 GROUP BY 1, 2, 3
          ON CONFLICT (queue, state, at) DO UPDATE SET n = queue_finished.n + excluded.n)
        DELETE FROM queue_finished WHERE at < @old
        """;

    private const string CountsSql = """
        SELECT queue, state, sum(n)::bigint FROM (
          SELECT queue, state, n FROM queue_counts UNION ALL SELECT queue, state, n FROM queue_count_deltas) AS c
        GROUP BY queue, state
        """;

    private static readonly string RecentSql = $"""
        SELECT queue, state, sum(n)::bigint FROM (
          SELECT queue, state, n, at FROM queue_finished WHERE at >= @since
          UNION ALL SELECT queue, CASE WHEN state = '{DoneState}' THEN '{JobState.Succeeded.ToText()}' ELSE state END, n, at
            FROM queue_count_deltas WHERE at >= @since AND n > 0) AS f
        GROUP BY queue, state
        """;

    // Queued jobs per queue: an index-only count of job_ready's claim index (narrow, vacuumed after every few thousand
    // claims), O(backlog) but never the finished history nor a row of jobs. (The kept counts hold queued and running
    // together, so that a claim counts nothing.)
    private const string QueuedSql = "SELECT queue, count(*) FROM job_ready GROUP BY queue";

    // The oldest queued job of each queue, O(queues · priorities · log n): the queues with active jobs in the kept counts;
    // in each, the head of every priority in job_ready's claim index (its lowest seq, the job a claim takes first at that
    // priority), one index probe per priority; the earliest due time among those heads. A job that re-entered the queue
    // (a retry, a scheduled time) with a lower seq than one waiting longer stands for its priority, so the age can be
    // that of a younger job; a queue that does not move ages all the same.
    private static readonly string OldestQueuedSql = $"""
        WITH RECURSIVE heads AS (
          SELECT q.queue, h.priority, h.job_id FROM (
            SELECT queue FROM queue_counts WHERE state = '{PostgresSchema.ActiveState}'
            UNION SELECT queue FROM queue_count_deltas WHERE state = '{PostgresSchema.ActiveState}') AS q
          CROSS JOIN LATERAL (SELECT r.priority, r.job_id FROM job_ready AS r WHERE r.queue = q.queue ORDER BY r.priority DESC, r.seq LIMIT 1) AS h
          UNION ALL
          SELECT h.queue, n.priority, n.job_id FROM heads AS h
          CROSS JOIN LATERAL (SELECT r.priority, r.job_id FROM job_ready AS r WHERE r.queue = h.queue AND r.priority < h.priority
            ORDER BY r.priority DESC, r.seq LIMIT 1) AS n)
        SELECT h.queue, min(coalesce(j.run_at, j.created_at)) FROM heads AS h JOIN jobs AS j ON j.id = h.job_id GROUP BY h.queue
        """;

    private async Task<long> FoldCountsAsync(Npgsql.NpgsqlConnection c, CancellationToken ct)
    {
        var old = (_time.GetUtcNow() - 2 * QueueStats.RecentWindow).UtcDateTime;
        await using var cmd = Command(c, FoldCountsSql).Bind("@old", old);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
