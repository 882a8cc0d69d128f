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
