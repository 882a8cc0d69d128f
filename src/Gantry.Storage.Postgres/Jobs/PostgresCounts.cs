using Gantry.Jobs;
using Npgsql;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

// Counts per (queue, state), kept exact by every transition (PostgresSchema migration 15): queued and running together
// as 'active' (a claim changes nothing; queued is counted from job_ready, running is the rest), the triggers on jobs
// count every other transition but the success, which counts itself once per statement (below). Writers only append
// to queue_count_deltas, so concurrent report batches never wait on a shared counter row; the store upkeep folds the
// deltas into queue_counts, and a read adds what is not folded yet.
/// <summary>The kept counts per queue and state: what a completion adds, the upkeep's fold, and the reads (queue statistics, backlog, a state's count).</summary>
internal sealed class PostgresCounts(PostgresDatabase db) : IStoreCounts
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

    internal async Task<long> FoldCountsAsync(NpgsqlConnection c, CancellationToken ct)
    {
        var old = (db.Time.GetUtcNow() - 2 * QueueStats.RecentWindow).UtcDateTime;
        await using var cmd = Command(c, FoldCountsSql).Bind("@old", old);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct) => db.RunAsync<IReadOnlyDictionary<string, long>>(async c =>
    {
        var backlog = new Dictionary<string, long>(StringComparer.Ordinal);
        // One ready row per queued job: the count reads job_ready, never the retained history.
        await using var cmd = Command(c, "SELECT queue, count(*) FROM job_ready WHERE queue NOT IN (SELECT queue FROM queue_pauses) GROUP BY queue");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) backlog[r.GetString(0)] = r.GetInt64(1);
        return backlog;
    }, ct);

    public Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct) => db.RunAsync<IReadOnlyList<QueueStats>>(async c =>
    {
        // The kept counts (above), the recent pace by second: O(queues); the queued count from job_ready's
        // index (O(backlog)); its oldest job by index probes (O(queues · priorities · log n)).
        await using var batch = new NpgsqlBatch(c);
        // job_ready's heap keeps the pages of every row a claim deleted until vacuum truncates them (rarely): its index,
        // which the upkeep's vacuums keep to the live rows, is read instead (for the batch's implicit transaction only).
        // Without JIT: the seq scans that remain (queue_count_deltas has no index) carry the setting's penalty cost, which
        // would have each statement compiled (270 ms measured for the oldest queued jobs' query, which runs in 1 ms).
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(CountsSql));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RecentSql).Bind("@since", (db.Time.GetUtcNow() - QueueStats.RecentWindow).UtcDateTime));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(QueuedSql));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(OldestQueuedSql));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT queue FROM queue_pauses"));
        var counts = new List<(string Queue, string State, long N)>();
        var recent = new Dictionary<(string, JobState), long>();
        var queued = new Dictionary<string, (long N, DateTimeOffset? Oldest)>(StringComparer.Ordinal);
        var paused = new HashSet<string>(StringComparer.Ordinal);
        await using (var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await r.NextResultAsync(ct).ConfigureAwait(false); // past set_config's row
            while (await r.ReadAsync(ct).ConfigureAwait(false)) counts.Add((r.GetString(0), r.GetString(1), r.GetInt64(2)));
            await r.NextResultAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false)) recent[(r.GetString(0), JobStates.Parse(r.GetString(1)))] = r.GetInt64(2);
            await r.NextResultAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false)) queued[r.GetString(0)] = (r.GetInt64(1), null);
            await r.NextResultAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                if (queued.TryGetValue(r.GetString(0), out var q)) queued[r.GetString(0)] = (q.N, r.GetTimeOrNull(1));
            await r.NextResultAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false)) paused.Add(r.GetString(0));
        }
        // Successes the completion counted ("done") left active for succeeded.
        var done = counts.Where(c => c.State == DoneState).ToDictionary(c => c.Queue, c => c.N, StringComparer.Ordinal);
        var totals = counts.Where(c => c.State != DoneState)
            .Concat(done.Select(d => (Queue: d.Key, State: JobState.Succeeded.ToText(), N: 0L)))
            .GroupBy(c => (c.Queue, c.State)).Select(g => (g.Key.Queue, g.Key.State, N: g.Sum(c => c.N)));
        var stats = new QueueStatsBuilder();
        foreach (var (queue, state, sum) in totals)
        {
            if (state == PostgresSchema.ActiveState)
            {
                // Queued and running are kept together: the queued ones are job_ready's, the rest run.
                var active = sum - done.GetValueOrDefault(queue);
                var (queuedN, oldest) = queued.GetValueOrDefault(queue);
                if (queuedN != 0) stats.Add(queue, JobState.Queued, queuedN, 0, oldest);
                if (active - queuedN != 0) stats.Add(queue, JobState.Running, active - queuedN, 0, null);
                continue;
            }
            var s = JobStates.Parse(state);
            var n = s == JobState.Succeeded ? sum + done.GetValueOrDefault(queue) : sum;
            if (n != 0) stats.Add(queue, s, n, recent.GetValueOrDefault((queue, s)), null);
        }
        return stats.Build(paused);
    }, ct);

    /// <summary>
    /// The jobs in a state (<c>@count_states</c>, of <c>@count_queue</c> when <paramref name="byQueue"/>) by the kept counts
    /// (above): succeeded with the completions' <see cref="DoneState"/> rows added (<c>@count_done</c> 1),
    /// queued or running as their sum, 'active' less the done rows (<c>@count_done</c> −1): never fewer than there are.
    /// </summary>
    internal static string CountInStateSql(JobState state, bool byQueue) => $"""
        (SELECT coalesce(sum(CASE WHEN c.state = '{DoneState}' THEN @count_done * c.n ELSE c.n END), 0)::bigint FROM (
          SELECT queue, state, n FROM queue_counts UNION ALL SELECT queue, state, n FROM queue_count_deltas) AS c
         WHERE c.state = ANY(@count_states){(byQueue ? " AND c.queue = @count_queue" : "")})
        """;

    internal static string[] CountedStates(JobState state) => state switch
    {
        JobState.Succeeded => [state.ToText(), DoneState],
        JobState.Queued or JobState.Running => [PostgresSchema.ActiveState, DoneState],
        _ => [state.ToText()],
    };
}
