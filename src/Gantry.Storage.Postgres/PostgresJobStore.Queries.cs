using Gantry.Jobs;
using Gantry.Serialization;
using Npgsql;
using NpgsqlTypes;

namespace Gantry.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    private static readonly string JobColumns = $"""
        seq, id, type, queue, state, priority, payload, attempt, max_attempts, timeout_ms, backoff_base_ms, backoff_max_ms,
        created_at, run_at, started_at, finished_at, worker_id, {LeaseUntilColumn}, idempotency_key, tags::text,
        array_to_json(required_capabilities)::text, progress, progress_message, result, cancel_requested_at,
        octet_length(checkpoint), checkpoint_at, checkpoint_interval_ms, workflow_id, step,
        trace_parent, trace_state, limits
        """;

    private static JobRecord ReadJob(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(1),
        Type = r.GetString(2),
        Queue = r.GetString(3),
        State = JobStates.Parse(r.GetString(4)),
        Priority = r.GetInt32(5),
        Payload = r.GetString(6),
        Attempt = r.GetInt32(7),
        MaxAttempts = r.GetInt32(8),
        Timeout = r.GetInt64OrNull(9) is { } t ? TimeSpan.FromMilliseconds(t) : null,
        Backoff = new Backoff(TimeSpan.FromMilliseconds(r.GetInt64(10)), TimeSpan.FromMilliseconds(r.GetInt64(11))),
        CreatedAt = r.GetTime(12),
        RunAt = r.GetTimeOrNull(13),
        StartedAt = r.GetTimeOrNull(14),
        FinishedAt = r.GetTimeOrNull(15),
        WorkerId = r.GetStringOrNull(16),
        LeaseUntil = r.GetTimeOrNull(17),
        IdempotencyKey = r.GetStringOrNull(18),
        Tags = CoreJson.TagsFromJson(r.GetStringOrNull(19)),
        RequiredCapabilities = CoreJson.ListFromJson(r.GetStringOrNull(20)),
        Progress = r.GetDoubleOrNull(21),
        ProgressMessage = r.GetStringOrNull(22),
        Result = r.GetStringOrNull(23),
        CancelRequestedAt = r.GetTimeOrNull(24),
        CheckpointSize = r.IsDBNull(25) ? null : r.GetInt32(25),
        CheckpointAt = r.GetTimeOrNull(26),
        CheckpointInterval = r.GetInt64OrNull(27) is { } ci ? TimeSpan.FromMilliseconds(ci) : null,
        WorkflowId = r.IsDBNull(28) ? null : r.GetGuid(28),
        Step = r.GetStringOrNull(29),
        TraceParent = r.GetStringOrNull(30),
        TraceState = r.GetStringOrNull(31),
        Limits = ResourceLimits.FromJson(r.GetStringOrNull(32)),
    };

    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => RunAsync(async c =>
    {
        // Job and errors in one round trip.
        await using var batch = new NpgsqlBatch(c);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {JobColumns} FROM jobs WHERE id = $1") { Parameters = { new() { Value = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT attempt, at, worker_id, kind, error_type, message, stack FROM job_errors WHERE job_id = $1 ORDER BY attempt")
            { Parameters = { new() { Value = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {ReportSql.UsageColumns} FROM job_usage WHERE job_id = $1 ORDER BY attempt")
            { Parameters = { new() { Value = id } } });
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) return null;
        var job = ReadJob(r);
        await r.NextResultAsync(ct).ConfigureAwait(false);
        var errors = new List<JobAttemptError>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            errors.Add(new JobAttemptError(r.GetInt32(0), r.GetTime(1), r.GetStringOrNull(2),
                new JobError(r.GetString(3), r.GetString(5), r.GetStringOrNull(4), r.GetStringOrNull(6))));
        await r.NextResultAsync(ct).ConfigureAwait(false);
        var usage = new List<JobAttemptUsage>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            usage.Add(new JobAttemptUsage(r.GetInt32(0), new AttemptUsage
            {
                Outcome = r.GetString(1),
                CpuSeconds = r.IsDBNull(2) ? null : r.GetDouble(2),
                PeakMemoryBytes = r.IsDBNull(3) ? null : r.GetInt64(3),
                ExitCode = r.IsDBNull(4) ? null : r.GetInt32(4),
                Signal = r.IsDBNull(5) ? null : r.GetInt32(5),
                Limit = r.GetStringOrNull(6),
            }));
        return job with { Errors = errors, Usage = usage };
    }, ct);

    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => RunAsync<IReadOnlyList<JobAttemptLogLine>>(async c =>
    {
        await using var batch = new NpgsqlBatch(c);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT 1 FROM jobs WHERE id = $1") { Parameters = { new() { Value = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT attempt, n, at, level, message FROM job_logs WHERE job_id = $1 ORDER BY attempt, n")
            { Parameters = { new() { Value = id } } });
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) throw new JobNotFoundException(id.ToString());
        await r.NextResultAsync(ct).ConfigureAwait(false);
        var lines = new List<JobAttemptLogLine>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            lines.Add(new JobAttemptLogLine(r.GetInt32(0), new JobLogLine(r.GetInt32(1), r.GetTime(2), r.GetString(3), r.GetString(4))));
        return lines;
    }, ct);

    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => RunAsync<IReadOnlyList<JobRecord>>(async c =>
    {
        await using var cmd = c.CreateCommand();
        var where = new List<string>();
        if (p.State is { } state) { where.Add("state = @state"); cmd.Bind("@state", state.ToText()); }
        if (p.Queue is not null) { where.Add("queue = @queue"); cmd.Bind("@queue", p.Queue); }
        if (p.Type is not null) { where.Add("type = @type"); cmd.Bind("@type", p.Type); }
        // Newest first by id (UUIDv7 grow with time, and within a process one by one): the id index serves
        // the order, where seq has no index of its own.
        if (p.Before is { } before) { where.Add("id < @before"); cmd.Bind("@before", before); }
        cmd.CommandText = $"SELECT {JobColumns} FROM jobs {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id DESC LIMIT @limit";
        cmd.Bind("@limit", Math.Clamp(p.Limit, 1, 10_000));
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<JobRecord>();
        while (await r.ReadAsync(ct).ConfigureAwait(false)) list.Add(ReadJob(r));
        return list;
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
        await using var cmd = Command(c, """
            SELECT queue, state, count(*), count(*) FILTER (WHERE finished_at >= $1), min(coalesce(run_at, created_at))
            FROM jobs GROUP BY queue, state
            """);
        cmd.Parameters.Add(new() { Value = (_time.GetUtcNow() - QueueStats.RecentWindow).UtcDateTime });
        var stats = new QueueStatsBuilder();
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                stats.Add(r.GetString(0), JobStates.Parse(r.GetString(1)), r.GetInt64(2), r.GetInt64(3), r.GetTimeOrNull(4));
        var paused = new HashSet<string>(StringComparer.Ordinal);
        await using (var p = await Command(c, "SELECT queue FROM queue_pauses").ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await p.ReadAsync(ct).ConfigureAwait(false)) paused.Add(p.GetString(0));
        return stats.Build(paused);
    }, ct);
}
