using Gantry.Jobs;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The one insert of a job, with its idempotency key and uniqueness window: the enqueue (in the store's transaction and
/// in an application's), a workflow's steps and a schedule's fire all bind it here.
/// </summary>
internal static class JobInsert
{
    // A job whose idempotency key is already taken in its queue (earlier, or earlier in this batch) is skipped. A job
    // without a concurrency key in a queue limited per key is marked to take turns with the queue's other such jobs
    // (unkeyed_turn, schema migration 16): one probe of queue_limits, in the insert's write transaction.
    public const string Sql = $"""
        INSERT INTO jobs (id, type, queue, state, priority, payload, max_attempts, attempt_budget, timeout_ms,
                          backoff_base_ms, backoff_max_ms, created_at, run_at, idempotency_key, tags, required_capabilities,
                          checkpoint_interval_ms, workflow_id, step, deps_left, trace_parent, trace_state, concurrency_key, unique_until, unique_while, limits,
                          unkeyed_turn)
        VALUES (@id, @type, @queue, @state, @priority, @payload, @max_attempts, @max_attempts, @timeout_ms,
                @backoff_base_ms, @backoff_max_ms, @now, @run_at, @key, @tags, @caps, @checkpoint_interval_ms,
                @workflow_id, @step, @deps_left, @trace_parent, @trace_state, @ckey, @unique_until, @unique_while, @limits,
                CASE WHEN @ckey IS NULL THEN (SELECT 1 FROM queue_limits WHERE queue = @queue AND {SqliteFlowLimits.PerKeySql}) END)
        ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        """;

    // A job holding the key whose uniqueness window has closed (past unique_until, or out of the states of
    // unique_while) lets go of it, so the new job can take it; run only when the insert found the key taken.
    public const string ReleaseKeySql = """
        UPDATE jobs SET idempotency_key = NULL
        WHERE queue = @queue AND idempotency_key = @key
          AND ((unique_until IS NOT NULL AND unique_until <= @now)
            OR (unique_while IS NOT NULL AND instr(',' || unique_while || ',', ',' || state || ',') = 0))
        """;

    public const string FindByKeySql = "SELECT id, state FROM jobs WHERE queue = @queue AND idempotency_key = @key";

    /// <summary>Where a new job starts (<see cref="JobStart"/>), at <paramref name="now"/> in Unix milliseconds.</summary>
    public static JobState FirstState(NewJob job, long now) => JobStart.State(job, DateTimeOffset.FromUnixTimeMilliseconds(now));

    /// <summary>Binds a new job's columns to the insert, with its trace context; the workflow columns stay null (a step binds them after).</summary>
    public static RawStatement BindJob(RawStatement insert, NewJob job, JobState state, long now, (string? Parent, string? State) trace) =>
        BindTrace(insert, trace).Bind("@id", job.Id.ToString())
            .Bind("@type", job.Type)
            .Bind("@queue", job.Queue)
            .Bind("@state", state.ToText())
            .Bind("@priority", job.Priority)
            .Bind("@payload", job.Payload)
            .Bind("@max_attempts", job.MaxAttempts)
            .Bind("@timeout_ms", job.Timeout is { } t ? (long)t.TotalMilliseconds : null)
            .Bind("@backoff_base_ms", (long)job.Backoff.Base.TotalMilliseconds)
            .Bind("@backoff_max_ms", (long)job.Backoff.Max.TotalMilliseconds)
            .Bind("@now", now)
            .Bind("@run_at", JobStart.Delay(job, DateTimeOffset.FromUnixTimeMilliseconds(now))?.ToUnixTimeMilliseconds())
            .Bind("@key", job.IdempotencyKey)
            .Bind("@tags", StoreJson.TagsToJson(job.Tags))
            .Bind("@caps", StoreJson.ListToJson(job.RequiredCapabilities))
            .Bind("@checkpoint_interval_ms", job.CheckpointInterval is { } ci ? (long)ci.TotalMilliseconds : null)
            .Bind("@ckey", job.ConcurrencyKey)
            .Bind("@limits", job.Limits?.ToJson())
            .Bind("@unique_until", job.UniqueFor is { } u ? now + (long)u.TotalMilliseconds : null)
            .Bind("@unique_while", StoreJson.UniqueWhileToText(job.UniqueWhile));

    private static RawStatement BindTrace(RawStatement insert, (string? Parent, string? State) trace) =>
        insert.Bind("@trace_parent", trace.Parent).Bind("@trace_state", trace.State);
}
