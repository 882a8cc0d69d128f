using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    // A job whose idempotency key is already taken in its queue (earlier, or earlier in this batch) is skipped.
    private const string InsertJobSql = """
        INSERT INTO jobs (id, type, queue, state, priority, payload, max_attempts, attempt_budget, timeout_ms,
                          backoff_base_ms, backoff_max_ms, created_at, run_at, idempotency_key, tags, required_capabilities,
                          checkpoint_interval_ms, workflow_id, step, deps_left, concurrency_key, unique_until, unique_while)
        VALUES (@id, @type, @queue, @state, @priority, @payload, @max_attempts, @max_attempts, @timeout_ms,
                @backoff_base_ms, @backoff_max_ms, @now, @run_at, @key, @tags, @caps, @checkpoint_interval_ms,
                @workflow_id, @step, @deps_left, @ckey, @unique_until, @unique_while)
        ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        """;

    // A job holding the key whose uniqueness window has closed (past unique_until, or out of the states of
    // unique_while) lets go of it, so the new job can take it; run only when the insert found the key taken.
    private const string ReleaseKeySql = """
        UPDATE jobs SET idempotency_key = NULL
        WHERE queue = @queue AND idempotency_key = @key
          AND ((unique_until IS NOT NULL AND unique_until <= @now)
            OR (unique_while IS NOT NULL AND instr(',' || unique_while || ',', ',' || state || ',') = 0))
        """;

    private const string FindByKeySql = "SELECT id, state FROM jobs WHERE queue = @queue AND idempotency_key = @key";

    /// <summary>Where a new job starts: scheduled when its run_at is still to come, else queued.</summary>
    private static JobState FirstState(NewJob job, long now) =>
        job.RunAt?.ToUnixTimeMilliseconds() > now ? JobState.Scheduled : JobState.Queued;

    /// <summary>Binds a new job's columns to the insert; the workflow columns stay null (a step binds them after).</summary>
    private static RawStatement BindJob(RawStatement insert, NewJob job, JobState state, long now) =>
        insert.Bind("@id", job.Id.ToString())
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
            .Bind("@run_at", job.RunAt?.ToUnixTimeMilliseconds())
            .Bind("@key", job.IdempotencyKey)
            .Bind("@tags", CoreJson.TagsToJson(job.Tags))
            .Bind("@caps", CoreJson.ListToJson(job.RequiredCapabilities))
            .Bind("@checkpoint_interval_ms", job.CheckpointInterval is { } ci ? (long)ci.TotalMilliseconds : null)
            .Bind("@ckey", job.ConcurrencyKey)
            .Bind("@unique_until", job.UniqueFor is { } u ? now + (long)u.TotalMilliseconds : null)
            .Bind("@unique_while", job.UniqueWhile is { } w ? string.Join(",", w.Select(s => s.ToText())) : null);

    public async Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct)
    {
        if (p.Jobs.Count == 0) return [];
        var results = await WriteAsync<IReadOnlyList<JobEnqueueResult>>(_ =>
        {
            var now = NowMs();
            var results = new JobEnqueueResult[p.Jobs.Count];
            var insert = Raw(InsertJobSql);
            for (var i = 0; i < p.Jobs.Count; i++)
            {
                var job = p.Jobs[i];
                var state = FirstState(job, now);
                var inserted = BindJob(insert, job, state, now).Execute() == 1;
                if (!inserted && job.IdempotencyKey is not null
                    && Raw(ReleaseKeySql).Bind("@queue", job.Queue).Bind("@key", job.IdempotencyKey).Bind("@now", now).Execute() > 0)
                    inserted = BindJob(insert, job, state, now).Execute() == 1;
                if (inserted)
                {
                    results[i] = new JobEnqueueResult(job.Id, false, state);
                    continue;
                }
                using var r = Prepared(FindByKeySql).Bind("@queue", job.Queue).Bind("@key", job.IdempotencyKey).ExecuteReader();
                if (!r.Read()) throw new InvalidOperationException($"job {job.Id} was neither inserted nor found by its idempotency key");
                results[i] = new JobEnqueueResult(Guid.Parse(r.GetString(0)), true, JobStates.Parse(r.GetString(1)));
            }
            return results;
        }, ct).ConfigureAwait(false);

        foreach (var r in results)
        {
            if (r.Existing) continue;
            if (r.State == JobState.Queued) Signals.JobsAvailable.Set();
            else if (r.State == JobState.Scheduled) Signals.ScheduleChanged.Set();
        }
        return results;
    }
}
