using Gantry.Jobs;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct) => WriteAsync<IReadOnlyList<DeadWorker>>(_ =>
    {
        var cutoff = NowMs() - (long)p.SilentFor.TotalMilliseconds;
        var dead = new List<(string Id, long LastSeen)>();
        using (var r = Prepared($"UPDATE workers SET state = '{WorkerStates.Dead}' WHERE state IN {WorkerStates.LiveSql} AND last_seen_at < @cutoff RETURNING id, last_seen_at")
            .Bind("@cutoff", cutoff).ExecuteReader())
        {
            while (r.Read()) dead.Add((r.GetString(0), r.GetInt64(1)));
        }
        var list = new List<DeadWorker>(dead.Count);
        foreach (var (id, lastSeen) in dead)
        {
            // The lease ends when the worker was last heard from: earlier than now, so the next rescue takes the job.
            var expired = Prepared($"UPDATE jobs SET lease_until = min(lease_until, @last_seen) WHERE worker_id = @id AND {StateSql.From(JobTransition.Rescue)}")
                .Bind("@last_seen", lastSeen).Bind("@id", id).ExecuteNonQuery();
            list.Add(new DeadWorker(id, DateTimeOffset.FromUnixTimeMilliseconds(lastSeen), expired));
        }
        return list;
    }, ct);

    public Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct) => ReadAsync<IReadOnlyList<WorkerRunningJob>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT worker_id, id, attempt, type, queue, started_at FROM jobs WHERE state = 'running' AND worker_id IS NOT NULL ORDER BY worker_id, seq";
        using var r = cmd.ExecuteReader();
        var list = new List<WorkerRunningJob>();
        while (r.Read())
            list.Add(new WorkerRunningJob(r.GetString(0), Guid.Parse(r.GetString(1)), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetTimeOrNull(5)));
        return list;
    }, ct);
}
