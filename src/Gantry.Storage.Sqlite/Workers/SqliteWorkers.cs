using Gantry.Jobs;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The worker registry: registration, heartbeats (which renew the worker's leases through <paramref name="reports"/>
/// and hand it its commands), the commands' delivery, and the workers that fell silent.
/// </summary>
internal sealed class SqliteWorkers(SqliteDatabase db, SqliteReports reports) : IStoreWorkers
{
    public Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct) => db.WriteAsync(_ =>
    {
        var now = db.NowMs();
        db.Prepared($"""
            INSERT INTO workers (id, name, host, pid, version, queues, capacity, job_types, capabilities, tags, state, started_at, last_seen_at)
            VALUES (@id, @name, @host, @pid, @version, @queues, @capacity, @types, @caps, @tags, 'running', @now, @now)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, host = excluded.host, pid = excluded.pid, version = excluded.version, queues = excluded.queues,
              capacity = excluded.capacity, job_types = excluded.job_types, capabilities = excluded.capabilities, tags = excluded.tags,
              state = {WorkerStates.SeenSql}, last_seen_at = excluded.last_seen_at
            """).Bind("@id", p.Id).Bind("@name", p.Name).Bind("@host", p.Host).Bind("@pid", p.ProcessId).Bind("@version", p.Version)
            .Bind("@queues", StoreJson.QueuesToJson(p.Queues)).Bind("@capacity", p.Capacity)
            .Bind("@types", StoreJson.ListToJson(p.JobTypes)).Bind("@caps", StoreJson.ListToJson(p.Capabilities))
            .Bind("@tags", StoreJson.TagsToJson(p.Tags)).Bind("@now", now).ExecuteNonQuery();
        return true;
    }, ct);

    public Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => db.WriteAsync(_ =>
    {
        var now = db.NowMs();
        db.Prepared($"UPDATE workers SET last_seen_at = @now, running_jobs = @running, state = {WorkerStates.SeenSql}, managed = @managed WHERE id = @id")
            .Bind("@now", now).Bind("@running", p.RunningJobs).Bind("@managed", StoreJson.ManagedToJson(p.Managed)).Bind("@id", p.WorkerId).ExecuteNonQuery();
        var lost = reports.RenewLeases(p.Jobs, p.WorkerId, now + (long)p.LeaseDuration.TotalMilliseconds);
        return new WorkerHeartbeatResult(TakeCommands(p.WorkerId), lost);
    }, ct);

    public async Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct)
    {
        // Almost always empty: look first without taking the write lock.
        var any = await db.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT EXISTS (SELECT 1 FROM worker_commands WHERE worker_id = @id)";
            cmd.Bind("@id", workerId);
            return Convert.ToInt64(cmd.ExecuteScalar()) == 1;
        }, ct).ConfigureAwait(false);
        return any ? await db.WriteAsync(_ => TakeCommands(workerId), ct).ConfigureAwait(false) : [];
    }

    private IReadOnlyList<WorkerCommand> TakeCommands(string workerId)
    {
        using var r = db.Prepared("DELETE FROM worker_commands WHERE worker_id = @id RETURNING kind, job_id").Bind("@id", workerId).ExecuteReader();
        var list = new List<WorkerCommand>();
        while (r.Read())
        {
            if (Enum.TryParse<WorkerCommandKind>(r.GetString(0), out var kind))
                list.Add(new WorkerCommand(kind, r.GetStringOrNull(1) is { } id ? Guid.Parse(id) : null));
        }
        return list;
    }

    public Task WorkerDeregisterAsync(string workerId, CancellationToken ct) => db.WriteAsync(_ =>
    {
        db.Prepared("UPDATE workers SET state = 'stopped', last_seen_at = @now, running_jobs = 0 WHERE id = @id")
            .Bind("@now", db.NowMs()).Bind("@id", workerId).ExecuteNonQuery();
        db.Prepared("DELETE FROM worker_commands WHERE worker_id = @id").Bind("@id", workerId).ExecuteNonQuery();
        return true;
    }, ct);

    public Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct) => db.ReadAsync<IReadOnlyList<WorkerRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {WorkerRows<SqliteColumns>.Columns} FROM workers ORDER BY last_seen_at DESC";
        using var r = cmd.ExecuteReader();
        var list = new List<WorkerRecord>();
        while (r.Read())
            list.Add(WorkerRows<SqliteColumns>.Read(r));
        return list;
    }, ct);

    public async Task<IReadOnlySet<string>> JobTypesServedAsync(CancellationToken ct)
    {
        var workers = await WorkerListAsync(ct).ConfigureAwait(false);
        return workers.SelectMany(w => w.Registration.JobTypes).ToHashSet(StringComparer.Ordinal);
    }

    public Task<IReadOnlyList<DeadWorker>> WorkerMarkDeadAsync(WorkerMarkDeadParams p, CancellationToken ct) => db.WriteAsync<IReadOnlyList<DeadWorker>>(_ =>
    {
        var cutoff = db.NowMs() - (long)p.SilentFor.TotalMilliseconds;
        var dead = new List<(string Id, long LastSeen)>();
        using (var r = db.Prepared($"UPDATE workers SET state = '{WorkerStates.Dead}' WHERE state IN {WorkerStates.LiveSql} AND last_seen_at < @cutoff RETURNING id, last_seen_at")
            .Bind("@cutoff", cutoff).ExecuteReader())
        {
            while (r.Read()) dead.Add((r.GetString(0), r.GetInt64(1)));
        }
        var list = new List<DeadWorker>(dead.Count);
        foreach (var (id, lastSeen) in dead)
        {
            // The lease ends when the worker was last heard from: earlier than now, so the next rescue takes the job.
            var expired = db.Prepared($"UPDATE jobs SET lease_until = min(lease_until, @last_seen) WHERE worker_id = @id AND {StateSql.From(JobTransition.Rescue)}")
                .Bind("@last_seen", lastSeen).Bind("@id", id).ExecuteNonQuery();
            list.Add(new DeadWorker(id, DateTimeOffset.FromUnixTimeMilliseconds(lastSeen), expired));
        }
        return list;
    }, ct);

    public Task<IReadOnlyList<WorkerRunningJob>> WorkerRunningJobsAsync(CancellationToken ct) => db.ReadAsync<IReadOnlyList<WorkerRunningJob>>(c =>
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
