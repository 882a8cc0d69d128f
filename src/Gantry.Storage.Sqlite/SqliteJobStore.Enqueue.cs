using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage.Sqlite.Native;
using Gantry.Telemetry;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    // A job whose idempotency key is already taken in its queue (earlier, or earlier in this batch) is skipped.
    private const string InsertJobSql = """
        INSERT INTO jobs (id, type, queue, state, priority, payload, max_attempts, attempt_budget, timeout_ms,
                          backoff_base_ms, backoff_max_ms, created_at, run_at, idempotency_key, tags, required_capabilities,
                          checkpoint_interval_ms, workflow_id, step, deps_left, trace_parent, trace_state, concurrency_key, unique_until, unique_while, limits)
        VALUES (@id, @type, @queue, @state, @priority, @payload, @max_attempts, @max_attempts, @timeout_ms,
                @backoff_base_ms, @backoff_max_ms, @now, @run_at, @key, @tags, @caps, @checkpoint_interval_ms,
                @workflow_id, @step, @deps_left, @trace_parent, @trace_state, @ckey, @unique_until, @unique_while, @limits)
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

    /// <summary>Binds a new job's columns to the insert, with its trace context; the workflow columns stay null (a step binds them after).</summary>
    private static RawStatement BindJob(RawStatement insert, NewJob job, JobState state, long now, (string? Parent, string? State) trace) =>
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
            .Bind("@run_at", job.RunAt?.ToUnixTimeMilliseconds())
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

    public async Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct)
    {
        if (p.Jobs.Count == 0) return [];
        using var trace = p.Traces is null ? GantryTracing.StartEnqueue(p.Jobs) : null;
        if (p.Transaction is not null) return EnqueueInAppTransaction(p, ct);
        var results = await WriteAsync(_ => InsertJobs(p, Raw(InsertJobSql), Raw(FindByKeySql), Raw(ReleaseKeySql)), ct).ConfigureAwait(false);
        Signal(results);
        return results;
    }

    /// <summary>
    /// Inserts each job with <paramref name="insert"/> (<see cref="InsertJobSql"/>), or finds the job that holds its
    /// idempotency key with <paramref name="find"/> (<see cref="FindByKeySql"/>): the one insert of the store's own
    /// transaction and of an application's.
    /// </summary>
    private JobEnqueueResult[] InsertJobs(JobEnqueueParams p, RawStatement insert, RawStatement find, RawStatement release)
    {
        var jobs = p.Jobs;
        var now = NowMs();
        var current = GantryTracing.CurrentContext();
        var results = new JobEnqueueResult[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var state = FirstState(job, now);
            var trace = JobEnqueueParams.TraceOf(p.Traces, i, current);
            var inserted = BindJob(insert, job, state, now, trace).Execute() == 1;
            // A key whose holder is past its uniqueness window (unique_for, unique_while) is given up, and the job takes it.
            if (!inserted && job.IdempotencyKey is not null
                && release.Bind("@queue", job.Queue).Bind("@key", job.IdempotencyKey).Bind("@now", now).Execute() > 0)
                inserted = BindJob(insert, job, state, now, trace).Execute() == 1;
            if (inserted)
            {
                results[i] = new JobEnqueueResult(job.Id, false, state);
                continue;
            }
            find.Bind("@queue", job.Queue).Bind("@key", job.IdempotencyKey);
            try
            {
                if (job.IdempotencyKey is null || !find.Step())
                    throw new InvalidInputException($"jobs[{i}]", $"job {job.Id} was neither inserted nor found by its idempotency key (is its id already taken?)");
                results[i] = new JobEnqueueResult(Guid.Parse(find.GetString(0)), true, JobStates.Parse(find.GetString(1)));
            }
            finally
            {
                find.Reset();
            }
        }
        return results;
    }

    /// <summary>
    /// The enqueue inside an application's transaction on this file: the same insert, on its connection. SQLite tells
    /// no other process; workers in this one are woken once the transaction has ended (or find the jobs on their next poll).
    /// </summary>
    private JobEnqueueResult[] EnqueueInAppTransaction(JobEnqueueParams p, CancellationToken ct)
    {
        var transaction = p.Transaction!;
        _db.ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        if (transaction is not SqliteTransaction tx)
            throw new InvalidInputException("transaction", $"is a {transaction.GetType().Name}; the SQLite store {FullPath} takes a Microsoft.Data.Sqlite SqliteTransaction on that file");
        if (tx.Connection is not { State: System.Data.ConnectionState.Open, Handle: not null } connection)
            throw new InvalidInputException("transaction", "has ended (committed or rolled back) or its connection is closed");
        var file = connection.DataSource;
        if (string.IsNullOrEmpty(file) || !string.Equals(System.IO.Path.GetFullPath(file), FullPath, StringComparison.Ordinal))
            throw new InvalidInputException("transaction", $"is on {(string.IsNullOrEmpty(file) ? "an in-memory database" : file)}, not on the store's file {FullPath}");
        JobEnqueueResult[] results;
        try
        {
            using var insert = new RawStatement(connection.Handle, InsertJobSql);
            using var find = new RawStatement(connection.Handle, FindByKeySql);
            using var release = new RawStatement(connection.Handle, ReleaseKeySql);
            results = InsertJobs(p, insert, find, release);
        }
        catch (SqliteException ex)
        {
            throw _db.Translate(ex);
        }
        _ = SignalWhenEndedAsync(tx, results);
        return results;
    }

    /// <summary>Raises the in-process signals once <paramref name="tx"/> has ended (Microsoft.Data.Sqlite drops its
    /// connection then); a rollback costs a claim that finds nothing.</summary>
    private async Task SignalWhenEndedAsync(SqliteTransaction tx, JobEnqueueResult[] results)
    {
        // Wall-clock waiting, whatever clock the store reads for job times.
        var pause = TimeSpan.FromMilliseconds(1);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (tx.Connection is not null && watch.Elapsed < TimeSpan.FromMinutes(10))
        {
            await Task.Delay(pause).ConfigureAwait(false);
            if (pause < TimeSpan.FromMilliseconds(50)) pause *= 2;
        }
        if (!_disposed) Signal(results);
    }

    private void Signal(IReadOnlyList<JobEnqueueResult> results)
    {
        foreach (var r in results)
        {
            if (r.Existing) continue;
            if (r.State == JobState.Queued) Signals.JobsAvailable.Set();
            else if (r.State == JobState.Scheduled) Signals.ScheduleChanged.Set();
        }
    }
}
