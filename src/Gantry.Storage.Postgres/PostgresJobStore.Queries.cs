using Gantry.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace Gantry.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    private static readonly string JobColumns = JobRows<PostgresColumns>.Columns;

    private static JobRecord ReadJob(NpgsqlDataReader r) => JobRows<PostgresColumns>.Read(r);

    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => RunAsync(async c =>
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

    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => RunAsync<IReadOnlyList<JobAttemptLogLine>>(async c =>
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

    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => RunAsync<IReadOnlyList<JobRecord>>(async c =>
    {
        await using var cmd = c.CreateCommand();
        var where = FilterWhere(cmd, new JobFilter { State = p.State, Queue = p.Queue, Type = p.Type, Tags = p.Tags });
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
                SELECT {(p.State is { } state ? CountInStateSql(state, p.Queue is not null) : "NULL::bigint")},
                  {(typeSearch ? StartsTypeSql : "true")}, {(p.Type is not null ? "EXISTS (SELECT 1 FROM job_types WHERE type = @known_type)" : "true")}
                """);
            if (p.State is { } s) bound.Bind("@count_states", CountedStates(s)).Bind("@count_done", s == JobState.Succeeded ? 1 : -1);
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

    /// <summary>
    /// The jobs in a state (<c>@count_states</c>, of <c>@count_queue</c> when <paramref name="byQueue"/>) by the kept counts
    /// (PostgresJobStore.Counts.cs): succeeded with the completions' <see cref="DoneState"/> rows added (<c>@count_done</c> 1),
    /// queued or running as their sum, 'active' less the done rows (<c>@count_done</c> −1): never fewer than there are.
    /// </summary>
    private static string CountInStateSql(JobState state, bool byQueue) => $"""
        (SELECT coalesce(sum(CASE WHEN c.state = '{DoneState}' THEN @count_done * c.n ELSE c.n END), 0)::bigint FROM (
          SELECT queue, state, n FROM queue_counts UNION ALL SELECT queue, state, n FROM queue_count_deltas) AS c
         WHERE c.state = ANY(@count_states){(byQueue ? " AND c.queue = @count_queue" : "")})
        """;

    private static string[] CountedStates(JobState state) => state switch
    {
        JobState.Succeeded => [state.ToText(), DoneState],
        JobState.Queued or JobState.Running => [PostgresSchema.ActiveState, DoneState],
        _ => [state.ToText()],
    };

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

    public Task<long> JobCountAsync(JobMatch m, CancellationToken ct) => RunAsync(async c =>
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM jobs WHERE {string.Join(" AND ", MatchWhere(cmd, m))}";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }, ct);

    public Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct) => RunAsync<IReadOnlyList<Guid>>(async c =>
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT id FROM jobs WHERE {string.Join(" AND ", MatchWhere(cmd, m))} ORDER BY id LIMIT @limit";
        cmd.Bind("@limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var ids = new List<Guid>();
        while (await r.ReadAsync(ct).ConfigureAwait(false)) ids.Add(r.GetGuid(0));
        return ids;
    }, ct);

    public Task<IReadOnlyDictionary<string, long>> QueueBacklogAsync(CancellationToken ct) => RunAsync<IReadOnlyDictionary<string, long>>(async c =>
    {
        var backlog = new Dictionary<string, long>(StringComparer.Ordinal);
        // One ready row per queued job: the count reads job_ready, never the retained history.
        await using var cmd = Command(c, "SELECT queue, count(*) FROM job_ready WHERE queue NOT IN (SELECT queue FROM queue_pauses) GROUP BY queue");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) backlog[r.GetString(0)] = r.GetInt64(1);
        return backlog;
    }, ct);

    public Task<IReadOnlyList<QueueStats>> QueueStatsAsync(CancellationToken ct) => RunAsync<IReadOnlyList<QueueStats>>(async c =>
    {
        // The kept counts (PostgresJobStore.Counts.cs), the recent pace by second: O(queues); the queued count from job_ready's
        // index (O(backlog)); its oldest job by index probes (O(queues · priorities · log n)).
        await using var batch = new NpgsqlBatch(c);
        // job_ready's heap keeps the pages of every row a claim deleted until vacuum truncates them (rarely): its index,
        // which the upkeep's vacuums keep to the live rows, is read instead (for the batch's implicit transaction only).
        // Without JIT: the seq scans that remain (queue_count_deltas has no index) carry the setting's penalty cost, which
        // would have each statement compiled (270 ms measured for the oldest queued jobs' query, which runs in 1 ms).
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(CountsSql));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RecentSql).Bind("@since", (_time.GetUtcNow() - QueueStats.RecentWindow).UtcDateTime));
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
}
