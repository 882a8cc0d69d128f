using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Telemetry;
using Gantry.Workflows;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Inserts jobs: idempotency keys, uniqueness windows, trace context; the one insert that workflows and schedules use too.</summary>
internal sealed class PostgresEnqueue(PostgresDatabase db) : IStoreEnqueue
{
    // The whole batch in one statement: columns travel as arrays and are unnested in batch order, so
    // seq follows the batch. A job whose idempotency key is already taken in its queue (earlier, by a
    // transaction that committed meanwhile, or earlier in this batch) is skipped; ON CONFLICT waits
    // for a concurrent inserter of the same key to finish, so exactly one job is created.
    private const string InsertJobsSql = """
        INSERT INTO jobs (id, type, queue, state, priority, payload, max_attempts, attempt_budget, timeout_ms,
                          backoff_base_ms, backoff_max_ms, created_at, run_at, idempotency_key, tags, required_capabilities,
                          checkpoint_interval_ms, workflow_id, step, deps_left, trace_parent, trace_state, concurrency_key, unique_until, unique_while, limits)
        SELECT j.id, j.type, j.queue, j.state, j.priority, j.payload, j.max_attempts, j.max_attempts, j.timeout_ms,
               j.backoff_base_ms, j.backoff_max_ms, @now, j.run_at, j.key, j.tags::jsonb,
               CASE WHEN j.caps IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(j.caps::jsonb)) END,
               j.checkpoint_interval_ms, @workflow_id, j.step, j.deps_left, j.trace_parent, j.trace_state, j.ckey, j.unique_until, j.unique_while, j.limits
        FROM unnest(@ids, @types, @queues, @states, @priorities, @payloads, @max_attempts, @timeouts,
                    @bases, @maxes, @run_ats, @keys, @tags, @caps, @checkpoint_intervals, @steps, @deps_lefts,
                    @ckeys, @unique_untils, @unique_whiles, @limits, @trace_parents, @trace_states)
             WITH ORDINALITY AS j(id, type, queue, state, priority, payload, max_attempts, timeout_ms,
                                  backoff_base_ms, backoff_max_ms, run_at, key, tags, caps, checkpoint_interval_ms, step, deps_left,
                                  ckey, unique_until, unique_while, limits, trace_parent, trace_state, ord)
        ORDER BY j.ord
        ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, seq
        """;

    // Before a batch with idempotency keys is inserted, the jobs holding those keys whose uniqueness window has closed
    // (past unique_until, or out of the states of unique_while) let go of them, in the same transaction: the insert
    // then takes the key. A concurrent release of the same key waits on the row and then finds it already let go.
    private static readonly string ReleaseKeysSql = $"""
        UPDATE jobs SET idempotency_key = NULL
        FROM unnest(@queues, @keys) AS k(queue, key)
        WHERE jobs.queue = k.queue AND jobs.idempotency_key = k.key AND ({UniqueWindowClosedSql("jobs", "@now")})
        """;

    /// <summary>True for a job whose idempotency key no longer holds (states stored comma-separated).</summary>
    internal static string UniqueWindowClosedSql(string alias, string now) =>
        $"({alias}.unique_until IS NOT NULL AND {alias}.unique_until <= {now}) OR ({alias}.unique_while IS NOT NULL AND position(',' || {alias}.state || ',' IN ',' || {alias}.unique_while || ',') = 0)";

    private const string FindByKeysSql = """
        SELECT j.queue, j.idempotency_key, j.id, j.state
        FROM jobs AS j JOIN unnest(@queues, @keys) AS k(queue, key) ON j.queue = k.queue AND j.idempotency_key = k.key
        """;

    /// <summary>The insert of jobs in one statement, as steps of <paramref name="workflow"/> when given, each with its trace
    /// context (<paramref name="traces"/> by index, else the current one); it returns (id, seq) of each job inserted.</summary>
    private static NpgsqlBatchCommand InsertJobs(IReadOnlyList<NewJob> jobs, IReadOnlyList<JobState> states, DateTimeOffset now, NewWorkflow? workflow,
        IReadOnlyList<(string? Parent, string? State)>? traces) =>
        BindTraces(new NpgsqlBatchCommand(InsertJobsSql), jobs.Count, traces)
            .Bind("@now", now.UtcDateTime)
            .Bind("@ids", jobs.Select(j => j.Id).ToArray())
            .Bind("@types", jobs.Select(j => j.Type).ToArray())
            .Bind("@queues", jobs.Select(j => j.Queue).ToArray())
            .Bind("@states", states.Select(s => s.ToText()).ToArray())
            .Bind("@priorities", jobs.Select(j => j.Priority).ToArray())
            .Bind("@payloads", jobs.Select(j => j.Payload).ToArray())
            .Bind("@max_attempts", jobs.Select(j => j.MaxAttempts).ToArray())
            .Bind("@timeouts", jobs.Select(j => j.Timeout is { } t ? (long?)t.TotalMilliseconds : null).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)
            .Bind("@bases", jobs.Select(j => (long)j.Backoff.Base.TotalMilliseconds).ToArray())
            .Bind("@maxes", jobs.Select(j => (long)j.Backoff.Max.TotalMilliseconds).ToArray())
            .Bind("@run_ats", jobs.Select(j => JobStart.Delay(j, now)?.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            .Bind("@keys", jobs.Select(j => j.IdempotencyKey).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@tags", jobs.Select(j => StoreJson.TagsToJson(j.Tags)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@caps", jobs.Select(j => StoreJson.ListToJson(j.RequiredCapabilities)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@checkpoint_intervals", jobs.Select(j => j.CheckpointInterval is { } ci ? (long?)ci.TotalMilliseconds : null).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)
            .Bind("@workflow_id", workflow?.Id, NpgsqlDbType.Uuid)
            .Bind("@steps", workflow?.Steps.Select(s => s.Name).ToArray() ?? new string?[jobs.Count], NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@deps_lefts", workflow?.Steps.Select(s => (int?)s.DependsOn.Count).ToArray() ?? new int?[jobs.Count], NpgsqlDbType.Array | NpgsqlDbType.Integer)
            .Bind("@ckeys", jobs.Select(j => j.ConcurrencyKey).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@unique_untils", jobs.Select(j => j.UniqueFor is { } u ? (DateTime?)(now + u).UtcDateTime : null).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            .Bind("@unique_whiles", jobs.Select(j => StoreJson.UniqueWhileToText(j.UniqueWhile)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@limits", jobs.Select(j => j.Limits?.ToJson()).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);


    /// <summary>The release of closed uniqueness windows for the keys of <paramref name="jobs"/>; null when none has a key.</summary>
    private static NpgsqlBatchCommand? ReleaseKeys(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        var keyed = jobs.Where(j => j.IdempotencyKey is not null).ToArray();
        if (keyed.Length == 0) return null;
        return new NpgsqlBatchCommand(ReleaseKeysSql)
            .Bind("@now", now.UtcDateTime)
            .Bind("@queues", keyed.Select(j => j.Queue).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@keys", keyed.Select(j => j.IdempotencyKey).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
    }

    private static NpgsqlBatchCommand BindTraces(NpgsqlBatchCommand insert, int count, IReadOnlyList<(string? Parent, string? State)>? traces)
    {
        var parents = new string?[count];
        var states = new string?[count];
        var current = GantryTracing.CurrentContext();
        for (var i = 0; i < count; i++) (parents[i], states[i]) = JobEnqueueParams.TraceOf(traces, i, current);
        return insert.Bind("@trace_parents", parents, NpgsqlDbType.Array | NpgsqlDbType.Text).Bind("@trace_states", states, NpgsqlDbType.Array | NpgsqlDbType.Text);
    }

    /// <summary>Runs <see cref="InsertJobs"/> (with <paramref name="more"/> after it in the same batch); returns the row key of each inserted job by id.</summary>
    internal static async Task<Dictionary<Guid, long>> InsertJobsAsync(NpgsqlConnection c, IReadOnlyList<NewJob> jobs, IReadOnlyList<JobState> states,
        DateTimeOffset now, NewWorkflow? workflow, IReadOnlyList<(string? Parent, string? State)>? traces, CancellationToken ct, params NpgsqlBatchCommand[] more)
    {
        await using var batch = new NpgsqlBatch(c);
        // The release returns no rows: the reader starts on the insert's.
        if (ReleaseKeys(jobs, now) is { } release) batch.BatchCommands.Add(release);
        batch.BatchCommands.Add(InsertJobs(jobs, states, now, workflow, traces));
        foreach (var command in more) batch.BatchCommands.Add(command);
        var inserted = new Dictionary<Guid, long>();
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) inserted[r.GetGuid(0)] = r.GetInt64(1);
        return inserted;
    }

    public async Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct)
    {
        if (p.Jobs.Count == 0) return [];
        using var trace = p.Traces is null ? GantryTracing.StartEnqueue(p.Jobs) : null;
        var now = db.Time.GetUtcNow();
        var jobs = p.Jobs;
        var states = jobs.Select(j => JobStart.State(j, now)).ToArray();
        // The insert and the wake-ups in one batch: one round trip, one implicit transaction (or the application's
        // transaction, which delivers the notifications at its commit). A spare notification (every job turned out to
        // exist already) costs a claim that finds nothing.
        var notify = db.WakeUps(states);
        var inserted = p.Transaction is null
            ? await db.OneBatchAsync(c => InsertJobsAsync(c, jobs, states, now, null, p.Traces, ct, notify), ct).ConfigureAwait(false)
            : await db.InAppTransactionAsync(p.Transaction, c => InsertJobsAsync(c, jobs, states, now, null, p.Traces, ct, notify), ct).ConfigureAwait(false);

        var results = new JobEnqueueResult[jobs.Count];
        var missing = new List<int>();
        for (var i = 0; i < jobs.Count; i++)
        {
            // A job skipped for its key counts once only; a second job with the same id in the batch is a duplicate too.
            if (inserted.Remove(jobs[i].Id)) results[i] = new JobEnqueueResult(jobs[i].Id, false, states[i]);
            else missing.Add(i);
        }
        if (missing.Count > 0)
        {
            // The jobs that hold those keys were committed before the insert skipped them (ON CONFLICT waits for their inserter).
            async Task<Dictionary<(string, string), JobEnqueueResult>> FindAsync(NpgsqlConnection c)
            {
                var byKey = new Dictionary<(string, string), JobEnqueueResult>();
                await using var find = Command(c, FindByKeysSql)
                    .Bind("@queues", missing.Select(i => jobs[i].Queue).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                    .Bind("@keys", missing.Select(i => jobs[i].IdempotencyKey).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await using var r = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                    byKey[(r.GetString(0), r.GetString(1))] = new JobEnqueueResult(r.GetGuid(2), true, JobStates.Parse(r.GetString(3)));
                return byKey;
            }
            var found = p.Transaction is null
                ? await db.RunAsync(FindAsync, ct).ConfigureAwait(false)
                : await db.InAppTransactionAsync(p.Transaction, FindAsync, ct).ConfigureAwait(false);
            foreach (var i in missing)
            {
                var job = jobs[i];
                if (job.IdempotencyKey is null || !found.TryGetValue((job.Queue, job.IdempotencyKey), out var existing))
                    throw new InvalidInputException($"jobs[{i}]", $"job {job.Id} was neither inserted nor found by its idempotency key (is its id already taken?)");
                results[i] = existing;
            }
        }

        // In the application's transaction, the jobs do not exist until it commits: the NOTIFY wakes everyone then.
        if (p.Transaction is not null) return results;
        foreach (var r in results)
        {
            if (r.Existing) continue;
            if (r.State == JobState.Queued) db.Signals.JobsAvailable.Set();
            else if (r.State == JobState.Scheduled) db.Signals.ScheduleChanged.Set();
        }
        return results;
    }
}
