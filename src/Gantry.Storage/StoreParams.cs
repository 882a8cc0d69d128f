using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>Jobs to enqueue, all or none.</summary>
public sealed record JobEnqueueParams(IReadOnlyList<NewJob> Jobs)
{
    /// <summary>
    /// The application's own open transaction on the store's database (an <c>NpgsqlTransaction</c> on PostgreSQL, a
    /// <c>SqliteTransaction</c> on the same SQLite file): the jobs are inserted through it, so they exist only if it
    /// commits, and workers are woken at its commit. Null: the store's own transaction.
    /// </summary>
    public System.Data.Common.DbTransaction? Transaction { get; init; }

    /// <summary>
    /// The trace context each job records, by index (<see cref="Telemetry.GantryTracing.CurrentContext"/> where its
    /// caller enqueued it), when the caller made the enqueue span itself: jobs of several callers gathered into one
    /// insert each keep their own. Null: every job records the current context, in an enqueue span the store makes.
    /// </summary>
    public IReadOnlyList<(string? Parent, string? State)>? Traces { get; init; }

    /// <summary>The trace context the job at <paramref name="index"/> records: its own in <paramref name="traces"/>
    /// (<see cref="Traces"/>), else <paramref name="current"/>. The one rule of both stores' inserts.</summary>
    internal static (string? Parent, string? State) TraceOf(IReadOnlyList<(string? Parent, string? State)>? traces, int index,
        (string? Parent, string? State) current) => traces is null ? current : traces[index];
}

/// <param name="Existing">True when an idempotency key matched a job that was already there.</param>
public sealed record JobEnqueueResult(Guid Id, bool Existing, JobState State);

/// <summary>How many jobs a worker can take from one queue right now.</summary>
public sealed record QueueDemand(string Queue, int Limit);

/// <param name="JobTypes">When given, only jobs of these types are claimed (the types this worker can run).</param>
public sealed record JobClaimParams(
    string WorkerId,
    IReadOnlyList<QueueDemand> Queues,
    TimeSpan LeaseDuration,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<string>? JobTypes = null);

/// <summary>A claimed job: everything the worker needs to run this attempt.</summary>
/// <remarks>One is made per job claimed, so what most jobs leave unset (a checkpoint, its interval, limits, a workflow
/// step's dependencies) is kept in one object of its own, made only for a job that sets any of it.</remarks>
public sealed record ClaimedJob
{
    /// <summary>The job's id.</summary>
    public required Guid Id { get; init; }
    /// <summary>The job's type: which handler runs it.</summary>
    public required string Type { get; init; }
    /// <summary>The queue it was claimed from.</summary>
    public required string Queue { get; init; }
    /// <summary>The job's priority.</summary>
    public int Priority { get; init; }
    /// <summary>The payload as JSON text.</summary>
    public required string Payload { get; init; }
    /// <summary>This attempt's number (1-based); fences every report.</summary>
    public required int Attempt { get; init; }
    /// <summary>Most attempts the job gets.</summary>
    public required int MaxAttempts { get; init; }
    /// <summary>How long this attempt may run; null for no timeout of the job's own.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>The delay between attempts, for a failure's retry.</summary>
    public Backoff Backoff { get; init; } = Backoff.Default;
    /// <summary>The lease owner the claim was made for: every report of the attempt names it.</summary>
    public required string WorkerId { get; init; }
    /// <summary>The job's tags; empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = NewJob.NoTags;
    /// <summary>When the job was enqueued.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When the job became due to run: its run_at (delayed, retried), else its creation.</summary>
    public DateTimeOffset DueAt { get; init; }
    /// <summary>The latest checkpoint of an earlier attempt, to resume from; null on a fresh start.</summary>
    public byte[]? Checkpoint { get => _rare?.Checkpoint; init { if (value != Checkpoint) Rare = RareOrNew with { Checkpoint = value }; } }
    /// <summary>When <see cref="Checkpoint"/> was saved; null without one.</summary>
    public DateTimeOffset? CheckpointAt { get => _rare?.CheckpointAt; init { if (value != CheckpointAt) Rare = RareOrNew with { CheckpointAt = value }; } }
    /// <summary>How often the runtime asks the handler for its state, when the job sets it.</summary>
    public TimeSpan? CheckpointInterval { get => _rare?.CheckpointInterval; init { if (value != CheckpointInterval) Rare = RareOrNew with { CheckpointInterval = value }; } }
    /// <summary>The job's own process limits (a process handler runs the tighter of these and its type's); null for none.</summary>
    public ResourceLimits? Limits { get => _rare?.Limits; init { if (value != Limits) Rare = RareOrNew with { Limits = value }; } }
    /// <summary>For a workflow step: the results (JSON text, or null) of the steps it depends on, by step name.
    /// Null for a plain job (the claim looks them up only for steps).</summary>
    public IReadOnlyDictionary<string, string?>? Dependencies { get => _rare?.Dependencies; init { if (value != Dependencies) Rare = RareOrNew with { Dependencies = value }; } }
    /// <summary>The claim that gave this attempt, when the store keeps a record of each claim (0 when not):
    /// the worker names it in a heartbeat once it has taken the claim's jobs in (<see cref="WorkerHeartbeatParams.Claims"/>).</summary>
    public long ClaimId { get; init; }
    /// <summary>The W3C trace context of the span that enqueued the job (<see cref="Telemetry.GantryTracing"/>): the attempt's span is its child.</summary>
    public string? TraceParent { get; init; }
    /// <summary>The W3C <c>tracestate</c> that came with <see cref="TraceParent"/>; null for none.</summary>
    public string? TraceState { get; init; }

    /// <summary>What most jobs leave unset; null when all of it is. Never changed once made (a <c>with</c> shares it until
    /// it sets one of these to a new value, which makes a new one), and equal by value, so that records compare as before.</summary>
    private RareParts? _rare;

    private RareParts RareOrNew => _rare ?? RareParts.None;

    private RareParts Rare
    {
        init => _rare = value == RareParts.None ? null : value;
    }

    private sealed record RareParts(byte[]? Checkpoint, DateTimeOffset? CheckpointAt, TimeSpan? CheckpointInterval, ResourceLimits? Limits,
        IReadOnlyDictionary<string, string?>? Dependencies)
    {
        public static readonly RareParts None = new(null, null, null, null, null);
    }
}

/// <summary>Which jobs <see cref="IStoreJobQueries.JobListAsync"/> returns, newest first; every filter optional.</summary>
public sealed record JobListParams
{
    /// <summary>Only jobs in this state.</summary>
    public JobState? State { get; init; }
    /// <summary>Only jobs in this queue.</summary>
    public string? Queue { get; init; }
    /// <summary>Only jobs of this type.</summary>
    public string? Type { get; init; }
    /// <summary>Most jobs returned. Defaults to 50.</summary>
    public int Limit { get; init; } = 50;
    /// <summary>Keyset cursor: only jobs older than this one.</summary>
    public Guid? Before { get; init; }
    /// <summary>Only jobs carrying every one of these tags (key and value equal).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>Only jobs this text finds (<see cref="JobSearch"/>): an exact id, an exact idempotency key, or a type prefix.</summary>
    public string? Search { get; init; }
    /// <summary>Only jobs with this concurrency key.</summary>
    public string? ConcurrencyKey { get; init; }
}

/// <summary>What a cancel did.</summary>
public enum JobCancelOutcome
{
    /// <summary>It was not running: it is cancelled now.</summary>
    Cancelled,
    /// <summary>It is running: its worker has been asked to stop it.</summary>
    Requested,
}

/// <summary>The answer to a cancel.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="Outcome">Whether the job is cancelled now or its worker was asked to stop it.</param>
public sealed record JobCancelResult(Guid Id, JobCancelOutcome Outcome);

/// <summary>A round of promoting due scheduled jobs to queued.</summary>
/// <param name="Limit">Most jobs promoted in the round.</param>
public sealed record JobPromoteParams(int Limit = 1000);

/// <summary>A round of taking back running jobs whose lease expired.</summary>
/// <param name="Limit">Most jobs rescued in the round.</param>
public sealed record JobRescueParams(int Limit = 1000);

/// <summary>What a round of <see cref="IStoreMaintenance.UpkeepAsync"/> did: dead rows it cleared, and dead rows it saw but left
/// (too few to be worth clearing yet). Both 0 means the store is quiet.</summary>
public readonly record struct UpkeepResult(long Cleared, long Pending);

/// <summary>A job taken back from a worker whose lease expired.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="Attempt">The attempt that was lost.</param>
/// <param name="WorkerId">The worker that held it; null when none was recorded.</param>
/// <param name="NewState">Where <see cref="Gantry.Jobs.RetryPolicy.AfterLostWorker"/> sent it: queued again, dead, or cancelled when a cancel was asked for.</param>
public sealed record RescuedJob(Guid Id, int Attempt, string? WorkerId, JobState NewState);

/// <param name="WorkerRetention">How long stopped and dead workers stay in the registry (at most <paramref name="Limit"/> go per call).</param>
public sealed record JobCleanParams(TimeSpan Retention, int Limit = 10_000, TimeSpan? WorkerRetention = null)
{
    /// <summary>Stopped and dead workers silent since before @worker_cutoff leave the registry, at most @limit of them.</summary>
    internal const string PruneWorkersSql =
        "DELETE FROM workers WHERE id IN (SELECT id FROM workers WHERE state IN ('stopped', 'dead') AND last_seen_at < @worker_cutoff LIMIT @limit)";
}

/// <summary>One queue's counts per state, with its recent pace and the age of its backlog.</summary>
public sealed record QueueStats(string Queue, IReadOnlyDictionary<JobState, long> Counts, bool Paused = false)
{
    /// <summary>The window <see cref="SucceededRecently"/> and <see cref="DeadRecently"/> count over.</summary>
    public static readonly TimeSpan RecentWindow = TimeSpan.FromMinutes(1);

    /// <summary>The queue's jobs in <paramref name="state"/>; 0 when it has none.</summary>
    public long this[JobState state] => Counts.TryGetValue(state, out var n) ? n : 0;

    /// <summary>Jobs that succeeded within the last <see cref="RecentWindow"/>.</summary>
    public long SucceededRecently { get; init; }

    /// <summary>Jobs that went dead within the last <see cref="RecentWindow"/>.</summary>
    public long DeadRecently { get; init; }

    /// <summary>When the longest-waiting queued job became due (its run_at, else its creation).</summary>
    public DateTimeOffset? OldestQueuedAt { get; init; }
}
