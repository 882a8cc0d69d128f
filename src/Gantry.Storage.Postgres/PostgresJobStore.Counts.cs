using Gantry.Jobs;

namespace Gantry.Storage.Postgres;

// Counts per (queue, state), kept exact by every transition (PostgresSchema migration 14): queued and running together
// as 'active' (a claim changes nothing; queued is counted from job_ready, running is the rest), the triggers on jobs
// count every other transition but the success, which counts itself once per statement (below). Writers only append
// to queue_count_deltas, so concurrent report batches never wait on a shared counter row; the store upkeep folds the
// deltas into queue_counts, and a read adds what is not folded yet.
public sealed partial class PostgresJobStore
{
    /// <summary>
    /// A data-modifying CTE that counts the jobs of <paramref name="cte"/> (which returns their <c>queue</c>) as moved from
    /// <paramref name="from"/> to <paramref name="to"/>: two delta rows per queue, whatever the number of jobs.
    /// <paramref name="at"/> is the SQL for the time a job entered <paramref name="to"/> when that is a finished state.
    /// </summary>
    internal static string CountMovedSql(string cte, string from, string to, string? at = null) => $"""
        INSERT INTO queue_count_deltas (queue, state, n, at)
          SELECT m.queue, s.state, s.n * count(*), CASE WHEN s.n > 0 THEN {at ?? "NULL"}::timestamptz END
          FROM {cte} AS m CROSS JOIN (VALUES ('{from}', -1), ('{to}', 1)) AS s(state, n)
          GROUP BY m.queue, s.state, s.n
        """;

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
            SELECT queue, state, date_trunc('second', at), sum(n) FROM d WHERE at IS NOT NULL AND n > 0 GROUP BY 1, 2, 3
          ON CONFLICT (queue, state, at) DO UPDATE SET n = queue_finished.n + excluded.n)
        DELETE FROM queue_finished WHERE at < @old
        """;

    private const string CountsSql = """
        SELECT queue, state, sum(n)::bigint FROM (
          SELECT queue, state, n FROM queue_counts UNION ALL SELECT queue, state, n FROM queue_count_deltas) AS c
        GROUP BY queue, state
        """;

    private const string RecentSql = """
        SELECT queue, state, sum(n)::bigint FROM (
          SELECT queue, state, n, at FROM queue_finished WHERE at >= @since
          UNION ALL SELECT queue, state, n, at FROM queue_count_deltas WHERE at >= @since AND n > 0) AS f
        GROUP BY queue, state
        """;

    // Queued jobs and the oldest due time among them read the queued set (job_ready), never the finished history.
    private const string QueuedSql = """
        SELECT r.queue, count(*), min(coalesce(j.run_at, j.created_at)) FROM job_ready AS r JOIN jobs AS j ON j.id = r.job_id GROUP BY r.queue
        """;

    private async Task<long> FoldCountsAsync(Npgsql.NpgsqlConnection c, CancellationToken ct)
    {
        var old = (_time.GetUtcNow() - 2 * QueueStats.RecentWindow).UtcDateTime;
        await using var cmd = Command(c, FoldCountsSql).Bind("@old", old);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
