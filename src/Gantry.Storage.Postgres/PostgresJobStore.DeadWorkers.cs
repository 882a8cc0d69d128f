using Gantry.Jobs;

namespace Gantry.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    // One statement: the workers found silent and the leases of the jobs they hold. A lease ends when its
    // worker was last heard from (before now), so the next rescue takes the job. A heartbeat racing this
    // waits for the row lock, then makes the worker running again and renews its leases: it was alive.
    // The jobs are found through the lease index (every running job has a lease), not a scan of the table.
    private static readonly string MarkDeadSql = $"""
        WITH dead AS (
          UPDATE workers SET state = '{WorkerStates.Dead}'
          WHERE state = '{WorkerStates.Running}' AND last_seen_at < @cutoff
          RETURNING id, last_seen_at),
        expired AS (
          UPDATE jobs AS j SET lease_until = LEAST(j.lease_until, d.last_seen_at)
          FROM dead d WHERE j.worker_id = d.id AND j.lease_until IS NOT NULL AND {JobStateMachine.SqlFrom(JobTransition.Rescue, "j.state")}
          RETURNING j.worker_id)
        SELECT d.id, d.last_seen_at, (SELECT count(*) FROM expired e WHERE e.worker_id = d.id)::int FROM dead d
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
        // `lease_until IS NOT NULL` (true of every running job) lets the partial lease index find them; without it
        // every listing of workers read the whole table, finished jobs and all.
        await using var cmd = Command(c, "SELECT worker_id, id, attempt, type, queue, started_at FROM jobs WHERE state = 'running' AND lease_until IS NOT NULL AND worker_id IS NOT NULL ORDER BY worker_id, id");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<WorkerRunningJob>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(new WorkerRunningJob(r.GetString(0), r.GetGuid(1), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetTimeOrNull(5)));
        return list;
    }, ct);
}
