using Gantry.Jobs;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>The worker registry: registration, heartbeats (which renew leases and deliver commands), dead workers and what they ran.</summary>
internal sealed class PostgresWorkers(PostgresDatabase db) : IStoreWorkers
{
    public Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct) => db.RunAsync(async c =>
        await Command(c, $"""
            INSERT INTO workers (id, name, host, pid, version, queues, capacity, job_types, capabilities, tags, state, started_at, last_seen_at)
            VALUES (@id, @name, @host, @pid, @version, @queues::jsonb, @capacity, @types::jsonb, @caps::jsonb, @tags::jsonb, 'running', @now, @now)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, host = excluded.host, pid = excluded.pid, version = excluded.version, queues = excluded.queues,
              capacity = excluded.capacity, job_types = excluded.job_types, capabilities = excluded.capabilities, tags = excluded.tags,
              state = {WorkerStates.SeenSql}, last_seen_at = excluded.last_seen_at
            """).Bind("@id", p.Id).Bind("@name", p.Name, NpgsqlDbType.Text).Bind("@host", p.Host).Bind("@pid", p.ProcessId).Bind("@version", p.Version)
            .Bind("@queues", StoreJson.QueuesToJson(p.Queues)).Bind("@capacity", p.Capacity)
            .Bind("@types", StoreJson.ListToJson(p.JobTypes), NpgsqlDbType.Text).Bind("@caps", StoreJson.ListToJson(p.Capabilities), NpgsqlDbType.Text)
            .Bind("@tags", StoreJson.TagsToJson(p.Tags), NpgsqlDbType.Text).Bind("@now", db.Now()).RunAsync(ct).ConfigureAwait(false), ct);

    public Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => db.TransactAsync(async c =>
    {
        var now = db.Now();
        await Command(c, $"UPDATE workers SET last_seen_at = @now, running_jobs = @running, state = {WorkerStates.SeenSql}, managed = @managed::jsonb WHERE id = @id")
            .Bind("@now", now).Bind("@running", p.RunningJobs).Bind("@managed", StoreJson.ManagedToJson(p.Managed), NpgsqlDbType.Text).Bind("@id", p.WorkerId).RunAsync(ct).ConfigureAwait(false);
        // Run even when nothing is held: the worker's last record and the claims it names must go.
        var renewed = (await PostgresArrayUpdate.RunAsync(c, PostgresLeases.RenewLeasesSql,
        [
            new Npgsql.NpgsqlParameter { Value = now + p.LeaseDuration, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new Npgsql.NpgsqlParameter { Value = p.Jobs.Select(j => j.JobId).ToArray() },
            new Npgsql.NpgsqlParameter { Value = p.Jobs.Select(j => j.Attempt).ToArray() },
            new Npgsql.NpgsqlParameter { Value = p.WorkerId },
            new Npgsql.NpgsqlParameter { Value = (p.Claims ?? []).ToArray() },
        ], r => new JobLease(r.GetGuid(0), r.GetInt32(1)), ct).ConfigureAwait(false)).ToHashSet();
        var lost = p.Jobs.Where(j => !renewed.Contains(j)).ToList();
        return new WorkerHeartbeatResult(await TakeCommandsAsync(c, p.WorkerId, ct).ConfigureAwait(false), lost);
    }, ct);

    public Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct) =>
        db.RunAsync(c => TakeCommandsAsync(c, workerId, ct), ct);

    private static async Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(Npgsql.NpgsqlConnection c, string workerId, CancellationToken ct)
    {
        await using var cmd = Command(c, """
            WITH taken AS (DELETE FROM worker_commands WHERE worker_id = @id RETURNING seq, kind, job_id)
            SELECT kind, job_id FROM taken ORDER BY seq
            """).Bind("@id", workerId);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<WorkerCommand>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            if (Enum.TryParse<WorkerCommandKind>(r.GetString(0), out var kind))
                list.Add(new WorkerCommand(kind, r.IsDBNull(1) ? null : r.GetGuid(1)));
        }
        return list;
    }

    public Task WorkerDeregisterAsync(string workerId, CancellationToken ct) => db.TransactAsync(async c =>
    {
        await Command(c, "UPDATE workers SET state = 'stopped', last_seen_at = @now, running_jobs = 0 WHERE id = @id")
            .Bind("@now", db.Now()).Bind("@id", workerId).RunAsync(ct).ConfigureAwait(false);
        await Command(c, "DELETE FROM worker_commands WHERE worker_id = @id").Bind("@id", workerId).RunAsync(ct).ConfigureAwait(false);
        return true;
    }, ct);

    public Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct) => db.RunAsync<IReadOnlyList<WorkerRecord>>(async c =>
    {
        await using var cmd = Command(c, $"SELECT {WorkerRows<PostgresColumns>.Columns} FROM workers ORDER BY last_seen_at DESC");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<WorkerRecord>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(WorkerRows<PostgresColumns>.Read(r));
        return list;
    }, ct);

    public async Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct)
    {
        var workers = await WorkerListAsync(ct).ConfigureAwait(false);
        return workers.SelectMany(w => w.Registration.JobTypes).ToHashSet(StringComparer.Ordinal);
    }

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
        SELECT d.id, d.last_seen_at, (SELECT count(DISTINCT j.id) FROM {PostgresLeases.LeasedRunning("ended AS l")} WHERE l.worker_id = d.id)::int
        FROM dead AS d
        """;

    public Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct) => db.TransactAsync<IReadOnlyList<DeadWorker>>(async c =>
    {
        await using var cmd = Command(c, MarkDeadSql).Bind("@cutoff", db.Now() - p.SilentFor);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<DeadWorker>();
        while (await r.ReadAsync(ct).ConfigureAwait(false)) list.Add(new DeadWorker(r.GetString(0), r.GetTime(1), r.GetInt32(2)));
        return list;
    }, ct);

    public Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct) => db.RunAsync<IReadOnlyList<WorkerRunningJob>>(async c =>
    {
        // Every attempt some lease record names and that still runs under the record's worker, each once.
        var sql = $"""
            SELECT DISTINCT ON (l.worker_id, j.id) l.worker_id, j.id, j.attempt, j.type, j.queue, j.started_at
            FROM {PostgresLeases.LeasedRunning("job_leases AS l")}
            ORDER BY l.worker_id, j.id
            """;
        return await PostgresArrayUpdate.RunAsync(c, sql, [],
            r => new WorkerRunningJob(r.GetString(0), r.GetGuid(1), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetTimeOrNull(5)), ct).ConfigureAwait(false);
    }, ct);
}
