using Gantry.Jobs;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// Queue statistics. Counts per (queue, state) cost O(queues) to read (SqliteSchema migration 11): the triggers on jobs
/// keep queue_counts for every state but queued and running, which the partial indexes of the claim and the lease count
/// (their cost follows the backlog and the running set, never the retained history); a success is counted by its
/// report batch, once per queue (<see cref="CountSucceeded"/>). Writes are serialised by the write lock, so one row per
/// queue and state holds no one up. The backlog per queue is read from the claim index too.
/// </summary>
internal sealed class SqliteCounts(SqliteDatabase db) : IStoreCounts
{
    private const string CountSucceededSql = """
        INSERT INTO queue_counts (queue, state, n) VALUES (@queue, 'succeeded', @n) ON CONFLICT (queue, state) DO UPDATE SET n = n + excluded.n
        """;

    private const string FinishedSucceededSql = """
        INSERT INTO queue_finished (queue, state, at_s, n) VALUES (@queue, 'succeeded', @at_s, @n)
        ON CONFLICT (queue, state, at_s) DO UPDATE SET n = n + excluded.n
        """;

    /// <summary>Counts a report batch's successes, per queue; called in its transaction.</summary>
    public void CountSucceeded(Dictionary<string, int> succeeded, long now)
    {
        foreach (var (queue, n) in succeeded)
        {
            db.Raw(CountSucceededSql).Bind("@queue", queue).Bind("@n", n).Execute();
            db.Raw(FinishedSucceededSql).Bind("@queue", queue).Bind("@at_s", now / 1000).Bind("@n", n).Execute();
        }
    }

    private const string CountsSql = "SELECT queue, state, n FROM queue_counts WHERE n <> 0";

    // The claim index holds exactly the queued jobs, the lease index exactly the running ones.
    private const string QueuedSql = """
        SELECT queue, count(*), min(coalesce(run_at, created_at)) FROM jobs INDEXED BY jobs_claim WHERE state = 'queued' GROUP BY queue
        """;

    private const string RunningSql = "SELECT queue, count(*) FROM jobs INDEXED BY jobs_lease WHERE state = 'running' GROUP BY queue";

    private const string RecentSql = "SELECT queue, state, sum(n) FROM queue_finished WHERE at_s >= @since_s GROUP BY queue, state";

    public Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct) => db.ReadAsync<IReadOnlyList<QueueStats>>(c =>
    {
        // One read transaction, so the kept counts and the indexed ones are of the same moment.
        using var tx = c.BeginTransaction(deferred: true);
        var recent = new Dictionary<(string, JobState), long>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = RecentSql;
            cmd.Bind("@since_s", (db.Time.GetUtcNow() - QueueStats.RecentWindow).ToUnixTimeMilliseconds() / 1000);
            using var r = cmd.ExecuteReader();
            while (r.Read()) recent[(r.GetString(0), JobStates.Parse(r.GetString(1)))] = r.GetInt64(2);
        }
        var stats = new QueueStatsBuilder();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = CountsSql;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var (queue, state) = (r.GetString(0), JobStates.Parse(r.GetString(1)));
                stats.Add(queue, state, r.GetInt64(2), recent.GetValueOrDefault((queue, state)), null);
            }
        }
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = QueuedSql;
            using var r = cmd.ExecuteReader();
            while (r.Read()) stats.Add(r.GetString(0), JobState.Queued, r.GetInt64(1), 0, r.GetTimeOrNull(2));
        }
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = RunningSql;
            using var r = cmd.ExecuteReader();
            while (r.Read()) stats.Add(r.GetString(0), JobState.Running, r.GetInt64(1), 0, null);
        }
        using var pausedCmd = c.CreateCommand();
        pausedCmd.CommandText = "SELECT queue FROM queue_pauses";
        var paused = new HashSet<string>(StringComparer.Ordinal);
        using (var p = pausedCmd.ExecuteReader())
            while (p.Read()) paused.Add(p.GetString(0));
        tx.Commit();
        return stats.Build(paused);
    }, ct);

    /// <summary>Drops the per-second rows of finished jobs that have left the recent window (twice over).</summary>
    public void PruneFinished(long now) =>
        db.Prepared("DELETE FROM queue_finished WHERE at_s < @old_s")
            .Bind("@old_s", (now - 2 * (long)QueueStats.RecentWindow.TotalMilliseconds) / 1000).ExecuteNonQuery();

    // The condition is the claim index's own, so the count walks that index (only queued rows), never the
    // finished jobs the store retains.
    private static readonly string BacklogSql = $"""
        SELECT queue, count(*) FROM jobs
        WHERE {StateSql.From(JobTransition.Claim)} AND queue NOT IN (SELECT queue FROM queue_pauses)
        GROUP BY queue
        """;

    public Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct) => db.ReadAsync<IReadOnlyDictionary<string, long>>(c =>
    {
        var backlog = new Dictionary<string, long>(StringComparer.Ordinal);
        using var cmd = c.CreateCommand();
        cmd.CommandText = BacklogSql;
        using var r = cmd.ExecuteReader();
        while (r.Read()) backlog[r.GetString(0)] = r.GetInt64(1);
        return backlog;
    }, ct);
}
