using Gantry.Jobs;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Reads of jobs: one job, its log, lists and search, counts and oldest of a match.</summary>
internal sealed class PostgresJobQueries(PostgresDatabase db) : IStoreJobQueries
{
    private static readonly string JobColumns = JobRows<PostgresColumns>.Columns;

    private static JobRecord ReadJob(NpgsqlDataReader r) => JobRows<PostgresColumns>.Read(r);

    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => db.RunAsync(async c =>
    {
        // Job and errors in one round trip.
        await using var batch = new NpgsqlBatch(c);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {JobColumns} FROM jobs WHERE id = $1") { Parameters = { new() { Value = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"SELECT {JobRows<PostgresColumns>.ErrorColumns} FROM job_errors WHERE job_id = $1 ORDER BY attempt")
            { Parameters = { new() { Value = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {JobRows<PostgresColumns>.UsageColumns} FROM job_usage WHERE job_id = $1 ORDER BY attempt")
            { Parameters = { new() { Value = id } } });
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) return null;
        var job = ReadJob(r);
        await r.NextResultAsync(ct).ConfigureAwait(false);
        var errors = new List<JobAttemptError>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            errors.Add(JobRows<PostgresColumns>.ReadError(r));
        await r.NextResultAsync(ct).ConfigureAwait(false);
        var usage = new List<JobAttemptUsage>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            usage.Add(JobRows<PostgresColumns>.ReadUsage(r));
        return job with { Errors = errors, Usage = usage };
    }, ct);

    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => db.RunAsync<IReadOnlyList<JobAttemptLogLine>>(async c =>
    {
        await using var batch = new NpgsqlBatch(c);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT 1 FROM jobs WHERE id = $1") { Parameters = { new() { Value = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {JobRows<PostgresColumns>.LogColumns} FROM job_logs WHERE job_id = $1 ORDER BY attempt, n")
            { Parameters = { new() { Value = id } } });
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) throw new JobNotFoundException(id.ToString());
        await r.NextResultAsync(ct).ConfigureAwait(false);
        var lines = new List<JobAttemptLogLine>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            lines.Add(JobRows<PostgresColumns>.ReadLogLine(r));
        return lines;
    }, ct);

    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => db.RunAsync<IReadOnlyList<JobRecord>>(async c =>
    {
        await using var cmd = c.CreateCommand();
        var where = FilterWhere(cmd, new JobFilter { State = p.State, Queue = p.Queue, Type = p.Type, Tags = p.Tags, ConcurrencyKey = p.ConcurrencyKey });
        // Newest first by id (UUIDv7 grow with time, and within a process one by one): the id index serves
        // the order, where seq has no index of its own.
        if (p.Before is { } before) { where.Add("id < @before"); cmd.Bind("@before", before); }
        var limit = Math.Clamp(p.Limit, 1, 10_000);
        var typeSearch = p.Search is { } text && !Guid.TryParse(text, out _);
        // The kept count of the state (JobListBound) and the known types (job_types) are read in the walk's own snapshot:
        // a type never enqueued is in no job, so its filter reads nothing either.
        await using var tx = p.State is not null || p.Type is not null || typeSearch
            ? await c.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct).ConfigureAwait(false) : null;
        var startsType = true;
        if (tx is not null)
        {
            await using var bound = Command(c, $"""
                SELECT {(p.State is { } state ? PostgresCounts.CountInStateSql(state, p.Queue is not null) : "NULL::bigint")},
                  {(typeSearch ? StartsTypeSql : "true")}, {(p.Type is not null ? "EXISTS (SELECT 1 FROM job_types WHERE type = @known_type)" : "true")}
                """);
            if (p.State is { } s) bound.Bind("@count_states", PostgresCounts.CountedStates(s)).Bind("@count_done", s == JobState.Succeeded ? 1 : -1);
            if (p.Queue is not null) bound.Bind("@count_queue", p.Queue);
            if (typeSearch) bound.Bind("@search", p.Search!).Bind("@search_end", JobSearch.PrefixEnd(p.Search!));
            if (p.Type is not null) bound.Bind("@known_type", p.Type);
            await using var r = await bound.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            limit = JobListBound.Limit(limit, r.IsDBNull(0) ? null : r.GetInt64(0));
            startsType = r.GetBoolean(1);
            if (!r.GetBoolean(2)) limit = 0;
        }
        if (limit == 0) return [];
        if (p.Search is { } search)
        {
            // No index on type here (it would cost every enqueue and every update that is not heap-only): a type prefix is
            // matched walking the list newest first, a page costing in inverse proportion to how common the prefix is. A text
            // that starts no type ever enqueued (job_types) cannot match one: only the id and the key are looked up, by index.
            IReadOnlyList<string>? types = Guid.TryParse(search, out _) || !startsType ? [] : null;
            where = [JobSearch.Sql(search, types, "id", where, t => $"type = {t}", "starts_with(type, @search)", out var asId)];
            cmd.Bind("@search", search);
            if (asId is { } id) cmd.Bind("@search_id", id);
        }
        cmd.CommandText = $"SELECT {JobColumns} FROM jobs {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id DESC LIMIT @limit";
        cmd.Bind("@limit", limit);
        // Planned for its own values (for the transaction only): a generic plan takes a type or a state to be as common as
        // the average one and walks the whole id index for a rare one instead of its own index. Not in parallel: workers
        // splitting the newest-first walk each read far down it before the page is full.
        await using var batch = new NpgsqlBatch(c);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('max_parallel_workers_per_gather', '0', true)"));
        var list = new NpgsqlBatchCommand(cmd.CommandText);
        foreach (NpgsqlParameter parameter in cmd.Parameters) list.Parameters.Add(parameter.Clone());
        batch.BatchCommands.Add(list);
        var jobs = new List<JobRecord>();
        await using (var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await r.NextResultAsync(ct).ConfigureAwait(false); // past set_config's row
            while (await r.ReadAsync(ct).ConfigureAwait(false)) jobs.Add(ReadJob(r));
        }
        if (tx is not null) await tx.CommitAsync(ct).ConfigureAwait(false);
        return jobs;
    }, ct);

    /// <summary>Whether any job type ever enqueued (job_types, kept by the insert trigger) starts with <c>@search</c>.</summary>
    private const string StartsTypeSql = "EXISTS (SELECT 1 FROM job_types WHERE type >= @search AND type < @search_end)";

    /// <summary>The conditions of a job filter, bound on <paramref name="cmd"/>; tags through the GIN index jobs_tags.</summary>
    private static List<string> FilterWhere(NpgsqlCommand cmd, JobFilter f)
    {
        var where = new List<string>();
        if (f.State is { } state) { where.Add("state = @state"); cmd.Bind("@state", state.ToText()); }
        // Scheduled jobs are exactly those with a due time: their own index (jobs_due) finds them, where the planner would
        // otherwise take a state it thinks rare for a scan of the whole table.
        if (f.State == JobState.Scheduled) where.Add("due_at IS NOT NULL");
        if (f.Queue is not null) { where.Add("queue = @queue"); cmd.Bind("@queue", f.Queue); }
        if (f.Type is not null) { where.Add("type = @type"); cmd.Bind("@type", f.Type); }
        if (f.ConcurrencyKey is not null) { where.Add("concurrency_key = @concurrency_key"); cmd.Bind("@concurrency_key", f.ConcurrencyKey); }
        if (f.Tags is { Count: > 0 } tags)
        {
            where.Add("tags IS NOT NULL AND tags @> @tags");
            cmd.Bind("@tags", StoreJson.TagsToJson(tags), NpgsqlDbType.Jsonb);
        }
        return where;
    }

    private static List<string> MatchWhere(NpgsqlCommand cmd, JobMatch m)
    {
        var where = FilterWhere(cmd, m.Filter with { State = null });
        where.Add($"state IN ({string.Join(", ", m.States.Select(s => $"'{s.ToText()}'"))})");
        if (m.NotCancelRequested) where.Add("cancel_requested_at IS NULL");
        if (m.After is { } after)
        {
            where.Add("id > @after"); // the oldest-first order is id's (version 7, time-ordered)
            cmd.Bind("@after", after);
        }
        return where;
    }

    public Task<long> JobCountAsync(JobMatch m, CancellationToken ct) => db.RunAsync(async c =>
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM jobs WHERE {string.Join(" AND ", MatchWhere(cmd, m))}";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }, ct);

    public Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct) => db.RunAsync<IReadOnlyList<Guid>>(async c =>
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT id FROM jobs WHERE {string.Join(" AND ", MatchWhere(cmd, m))} ORDER BY id LIMIT @limit";
        cmd.Bind("@limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var ids = new List<Guid>();
        while (await r.ReadAsync(ct).ConfigureAwait(false)) ids.Add(r.GetGuid(0));
        return ids;
    }, ct);

}
