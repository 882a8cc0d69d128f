using System.Data.Common;
using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// A job's row as both stores select and read it: <see cref="Columns"/> in the order <see cref="Read"/> reads them
/// (<c>seq</c> first, for a caller that wants the row's key), the errors and usage of its attempts likewise.
/// </summary>
internal static class JobRows<TStore> where TStore : struct, IStoreColumns
{
    public static readonly string Columns = $"""
        seq, id, type, queue, state, priority, payload, attempt, max_attempts, timeout_ms, backoff_base_ms, backoff_max_ms,
        created_at, run_at, started_at, finished_at, worker_id, {TStore.LeaseUntil}, idempotency_key, {TStore.JsonText("tags")},
        {TStore.ListJsonText("required_capabilities")}, progress, progress_message, result, cancel_requested_at,
        {TStore.ByteLength("checkpoint")}, checkpoint_at, checkpoint_interval_ms, workflow_id, step, trace_parent, trace_state, limits,
        concurrency_key, unique_until, unique_while
        """;

    public static JobRecord Read(DbDataReader r) => new()
    {
        Id = r.GetGuid(1),
        Type = r.GetString(2),
        Queue = r.GetString(3),
        State = JobStates.Parse(r.GetString(4)),
        Priority = r.GetInt32(5),
        Payload = r.GetString(6),
        Attempt = r.GetInt32(7),
        MaxAttempts = r.GetInt32(8),
        Timeout = r.GetMillisecondsOrNull(9),
        Backoff = new Backoff(TimeSpan.FromMilliseconds(r.GetInt64(10)), TimeSpan.FromMilliseconds(r.GetInt64(11))),
        CreatedAt = TStore.Time(r, 12),
        RunAt = r.GetTimeOrNull<TStore>(13),
        StartedAt = r.GetTimeOrNull<TStore>(14),
        FinishedAt = r.GetTimeOrNull<TStore>(15),
        WorkerId = r.GetStringOrNull(16),
        LeaseUntil = r.GetTimeOrNull<TStore>(17),
        IdempotencyKey = r.GetStringOrNull(18),
        Tags = StoreJson.TagsFromJson(r.GetStringOrNull(19)),
        RequiredCapabilities = StoreJson.ListFromJson(r.GetStringOrNull(20)),
        Progress = r.GetDoubleOrNull(21),
        ProgressMessage = r.GetStringOrNull(22),
        Result = r.GetStringOrNull(23),
        CancelRequestedAt = r.GetTimeOrNull<TStore>(24),
        CheckpointSize = r.GetInt32OrNull(25),
        CheckpointAt = r.GetTimeOrNull<TStore>(26),
        CheckpointInterval = r.GetMillisecondsOrNull(27),
        WorkflowId = r.GetGuidOrNull(28),
        Step = r.GetStringOrNull(29),
        TraceParent = r.GetStringOrNull(30),
        TraceState = r.GetStringOrNull(31),
        Limits = ResourceLimits.FromJson(r.GetStringOrNull(32)),
        ConcurrencyKey = r.GetStringOrNull(33),
        UniqueUntil = r.GetTimeOrNull<TStore>(34),
        UniqueWhile = StoreJson.UniqueWhileFromText(r.GetStringOrNull(35)),
    };

    /// <summary>The columns of <c>job_errors</c> <see cref="ReadError"/> reads, in its order.</summary>
    public const string ErrorColumns = "attempt, at, worker_id, kind, error_type, message, stack";

    public static JobAttemptError ReadError(DbDataReader r) =>
        new(r.GetInt32(0), TStore.Time(r, 1), r.GetStringOrNull(2),
            new JobError(r.GetString(3), r.GetString(5), r.GetStringOrNull(4), r.GetStringOrNull(6)));

    /// <summary>The columns of <c>job_usage</c> <see cref="ReadUsage"/> reads, in its order.</summary>
    public const string UsageColumns = "attempt, outcome, cpu_seconds, peak_memory_bytes, exit_code, signal, limit_hit";

    public static JobAttemptUsage ReadUsage(DbDataReader r) => new(r.GetInt32(0), new AttemptUsage
    {
        Outcome = r.GetString(1),
        CpuSeconds = r.GetDoubleOrNull(2),
        PeakMemoryBytes = r.GetInt64OrNull(3),
        ExitCode = r.GetInt32OrNull(4),
        Signal = r.GetInt32OrNull(5),
        Limit = r.GetStringOrNull(6),
    });

    /// <summary>The columns of <c>job_logs</c> <see cref="ReadLogLine"/> reads, in its order.</summary>
    public const string LogColumns = "attempt, n, at, level, message";

    public static JobAttemptLogLine ReadLogLine(DbDataReader r) =>
        new(r.GetInt32(0), new JobLogLine(r.GetInt32(1), TStore.Time(r, 2), r.GetString(3), r.GetString(4)));
}
