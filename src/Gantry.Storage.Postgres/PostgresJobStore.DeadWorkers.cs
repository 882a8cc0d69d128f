using Gantry.Jobs;

namespace Gantry.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    // One statement: the workers found silent and their lease records. A lease ends when its worker was last
    // heard from (before now), so the next rescue takes the job. A heartbeat racing this waits for the row
    // lock, then makes the worker running again and renews what it holds: it was alive. Counted: the
    // attempts the records name that still run.
    private static readonly string MarkDeadSql = $"""
        WITH dead AS (
          UPDATE workers SET state = '{WorkerStates.Dead}'
          WHERE state IN {WorkerStates.LiveSql} AND last_seen_at < @cutoff
          RETURNING id, last_seen_at),
        ended AS (
          UPDATE job_leases AS l SET lease_until = LEAST(l.lease_until, d.last_seen_at)
          FROM dead AS d WHERE l.worker_id = d.id
          RETURNING l.worker_id, l.jobs, l.attempts)
        SELECT d.id, d.last_seen_at, (SELECT count(DISTINCT j.id) FROM {LeasedRunning("ended AS l")} WHERE l.worker_id = d.id)::int
        FROM dead AS d
        """;

    public Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct) => TransactAsync<IReadOnlyList<DeadWorker>>(async c =>
    {
        await using var cmd = Command(c, MarkDeadSql).Bind("@cutoff", Now() - p.SilentFor);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<DeadWorker>();
        while (await r.ReadAsync(ct).ConfigureAwait(false)) list.Add(new DeadWorker(r.GetString(0), r.GetTime(1), r.GetInt32(2)));
        return list;
    }, ct);

    public Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct) => RunAsync<IReadOnlyList<WorkerRunningJob>>(async c =>
    {
        // Every attempt some lease record names and that still runs under the record's worker, each once.
        var sql = $"""
            SELECT DISTINCT ON (l.worker_id, j.id) l.worker_id, j.id, j.attempt, j.type, j.queue, j.started_at
            FROM {LeasedRunning("job_leases AS l")}
            ORDER BY l.worker_id, j.id
            """;
        return await PostgresArrayUpdate.RunAsync(c, sql, [],
            r => new WorkerRunningJob(r.GetString(0), r.GetGuid(1), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetTimeOrNull(5)), ct).ConfigureAwait(false);
    }, ct);
}
