
namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public Task WorkerRegisterAsync(WorkerRegistration p, CancellationToken ct) => WriteAsync(_ =>
    {
        var now = NowMs();
        Prepared($"""
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

    private static readonly string RenewLeaseSql = $"UPDATE jobs SET lease_until = @lease_until WHERE {FenceSql.Report}";

    public Task<WorkerHeartbeatResult> WorkerHeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => WriteAsync(_ =>
    {
        var now = NowMs();
        Prepared($"UPDATE workers SET last_seen_at = @now, running_jobs = @running, state = {WorkerStates.SeenSql}, managed = @managed WHERE id = @id")
            .Bind("@now", now).Bind("@running", p.RunningJobs).Bind("@managed", StoreJson.ManagedToJson(p.Managed)).Bind("@id", p.WorkerId).ExecuteNonQuery();
        var lost = new List<JobLease>();
        var renew = Raw(RenewLeaseSql);
        foreach (var job in p.Jobs)
        {
            var renewed = renew.Bind("@lease_until", now + (long)p.LeaseDuration.TotalMilliseconds).Bind("@id", job.JobId.ToString())
                .Bind("@attempt", job.Attempt).Bind("@worker", p.WorkerId).Execute() == 1;
            if (!renewed) lost.Add(job);
        }
        return new WorkerHeartbeatResult(TakeCommands(p.WorkerId), lost);
    }, ct);

    public async Task<IReadOnlyList<WorkerCommand>> WorkerCommandsTakeAsync(string workerId, CancellationToken ct)
    {
        // Almost always empty: look first without taking the write lock.
        var any = await ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT EXISTS (SELECT 1 FROM worker_commands WHERE worker_id = @id)";
            cmd.Bind("@id", workerId);
            return Convert.ToInt64(cmd.ExecuteScalar()) == 1;
        }, ct).ConfigureAwait(false);
        return any ? await WriteAsync(_ => TakeCommands(workerId), ct).ConfigureAwait(false) : [];
    }

    private IReadOnlyList<WorkerCommand> TakeCommands(string workerId)
    {
        using var r = Prepared("DELETE FROM worker_commands WHERE worker_id = @id RETURNING kind, job_id").Bind("@id", workerId).ExecuteReader();
        var list = new List<WorkerCommand>();
        while (r.Read())
        {
            if (Enum.TryParse<WorkerCommandKind>(r.GetString(0), out var kind))
                list.Add(new WorkerCommand(kind, r.GetStringOrNull(1) is { } id ? Guid.Parse(id) : null));
        }
        return list;
    }

    public Task WorkerDeregisterAsync(string workerId, CancellationToken ct) => WriteAsync(_ =>
    {
        Prepared("UPDATE workers SET state = 'stopped', last_seen_at = @now, running_jobs = 0 WHERE id = @id")
            .Bind("@now", NowMs()).Bind("@id", workerId).ExecuteNonQuery();
        Prepared("DELETE FROM worker_commands WHERE worker_id = @id").Bind("@id", workerId).ExecuteNonQuery();
        return true;
    }, ct);

    public Task<IReadOnlyList<WorkerRecord>> WorkerListAsync(CancellationToken ct) => ReadAsync<IReadOnlyList<WorkerRecord>>(c =>
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
}
