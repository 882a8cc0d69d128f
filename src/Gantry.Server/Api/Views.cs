using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Server.Api;

/// <summary>The JSON shape of a job, for the API and the CLI's <c>--json</c>. Field names follow the job document's.</summary>
public sealed record JobView
{
    /// <summary>The job's id (a GUID).</summary>
    public required string Id { get; init; }
    /// <summary>The job type, which names its handler.</summary>
    public required string Type { get; init; }
    /// <summary>The queue it waits in.</summary>
    public required string Queue { get; init; }
    /// <summary>Its state: <c>waiting</c>, <c>scheduled</c>, <c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>dead</c> or <c>cancelled</c>.</summary>
    public required string State { get; init; }
    /// <summary>Its priority: higher runs first within a queue.</summary>
    public int Priority { get; init; }
    /// <summary>Its payload, as stored (hidden from <c>read</c> tokens when the server hides payloads).</summary>
    public JsonElement Payload { get; init; }
    /// <summary>Attempts made so far (the running one included).</summary>
    public int Attempt { get; init; }
    /// <summary>Attempts allowed before it goes dead.</summary>
    public int MaxAttempts { get; init; }
    /// <summary>An attempt's timeout in seconds; null for none.</summary>
    public double? TimeoutSeconds { get; init; }
    /// <summary>The last progress a handler reported, 0–100; null when none was.</summary>
    public double? Progress { get; init; }
    /// <summary>The message with that progress.</summary>
    public string? ProgressMessage { get; init; }
    /// <summary>The handler's result once it succeeded; null otherwise.</summary>
    public JsonElement? Result { get; init; }
    /// <summary>When it was enqueued.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When it is due (for a scheduled job or a retry); null when at once.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>When its latest attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When it ended (succeeded, dead or cancelled).</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The worker running it, or that ran its latest attempt.</summary>
    public string? WorkerId { get; init; }
    /// <summary>Until when its worker holds it without renewing the lease (running jobs only).</summary>
    public DateTimeOffset? LeaseUntil { get; init; }
    /// <summary>When a cancel was asked of a running job; null when none was.</summary>
    public DateTimeOffset? CancelRequestedAt { get; init; }
    /// <summary>The key that makes a second enqueue with it return this job; null when none was given.</summary>
    public string? IdempotencyKey { get; init; }
    /// <summary>Until when the idempotency key holds (its uniqueness window, <c>unique_for</c> from its creation); null for as long as the job is kept.</summary>
    public DateTimeOffset? UniqueUntil { get; init; }
    /// <summary>The states in which the idempotency key holds; null for every state.</summary>
    public IReadOnlyList<string>? UniqueWhile { get; init; }
    /// <summary>The key that groups it with other jobs for its queue's per-key limits and fair turns; null for none.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>Its tags; null when it has none.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>Capabilities a worker must offer to claim it; null when none.</summary>
    public IReadOnlyList<string>? RequiredCapabilities { get; init; }
    /// <summary>Every failed attempt's error, oldest first (a single job's view only; null in lists).</summary>
    public IReadOnlyList<ErrorView>? Errors { get; init; }
    /// <summary>What each process-handler attempt consumed and how its program ended (with the errors: a single job's view).</summary>
    public IReadOnlyList<JobAttemptUsage>? Attempts { get; init; }
    /// <summary>The size in bytes of its last checkpoint; null when it has none.</summary>
    public int? CheckpointSize { get; init; }
    /// <summary>When that checkpoint was saved.</summary>
    public DateTimeOffset? CheckpointAt { get; init; }
    /// <summary>The job's own process limits (tightening its type's), as its document gave them.</summary>
    public ResourceLimits? Limits { get; init; }
    /// <summary>For a workflow step: its workflow and step name.</summary>
    public string? WorkflowId { get; init; }
    /// <summary>For a workflow step: its step name.</summary>
    public string? Step { get; init; }
    /// <summary>The trace the job was enqueued in (32 hex digits), and the W3C context of the span that enqueued it: its attempts' spans are children of it.</summary>
    public string? TraceId { get; init; }
    /// <summary>The W3C <c>traceparent</c> of the span that enqueued the job.</summary>
    public string? Traceparent { get; init; }
    /// <summary>The W3C <c>tracestate</c> that came with it.</summary>
    public string? Tracestate { get; init; }

    /// <summary>The view of <paramref name="j"/>; <paramref name="withErrors"/> adds its errors and attempts' usage (a single job's view).</summary>
    public static JobView From(JobRecord j, bool withErrors) => new()
    {
        Id = j.Id.ToString(),
        Type = j.Type,
        Queue = j.Queue,
        State = j.State.ToText(),
        Priority = j.Priority,
        Payload = Parse(j.Payload) ?? default,
        Attempt = j.Attempt,
        MaxAttempts = j.MaxAttempts,
        TimeoutSeconds = j.Timeout?.TotalSeconds,
        Progress = j.Progress,
        ProgressMessage = j.ProgressMessage,
        Result = Parse(j.Result),
        CreatedAt = j.CreatedAt,
        RunAt = j.RunAt,
        StartedAt = j.StartedAt,
        FinishedAt = j.FinishedAt,
        WorkerId = j.WorkerId,
        LeaseUntil = j.LeaseUntil,
        CancelRequestedAt = j.CancelRequestedAt,
        IdempotencyKey = j.IdempotencyKey,
        UniqueUntil = j.UniqueUntil,
        UniqueWhile = j.UniqueWhile?.Select(s => s.ToText()).ToArray(),
        ConcurrencyKey = j.ConcurrencyKey,
        Tags = j.Tags.Count > 0 ? j.Tags : null,
        RequiredCapabilities = j.RequiredCapabilities.Count > 0 ? j.RequiredCapabilities : null,
        CheckpointSize = j.CheckpointSize,
        CheckpointAt = j.CheckpointAt,
        Limits = j.Limits,
        WorkflowId = j.WorkflowId?.ToString(),
        Step = j.Step,
        TraceId = Gantry.Telemetry.GantryTracing.TraceId(j.TraceParent),
        Traceparent = j.TraceParent,
        Tracestate = j.TraceState,
        Errors = withErrors ? j.Errors.Select(e => new ErrorView(e.Attempt, e.At, e.WorkerId, e.Error.Kind, e.Error.Type, e.Error.Message, e.Error.StackTrace)).ToArray() : null,
        Attempts = withErrors && j.Usage.Count > 0 ? j.Usage : null,
    };

    /// <summary>The record again, as a client of the API reads it (what the view leaves out, such as the backoff, takes its default).</summary>
    public JobRecord ToRecord() => new()
    {
        Id = Guid.Parse(Id),
        Type = Type,
        Queue = Queue,
        State = JobStates.Parse(State),
        Priority = Priority,
        Payload = Payload.ValueKind == JsonValueKind.Undefined ? "{}" : Payload.GetRawText(),
        Attempt = Attempt,
        MaxAttempts = MaxAttempts,
        Timeout = TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null,
        CreatedAt = CreatedAt,
        RunAt = RunAt,
        StartedAt = StartedAt,
        FinishedAt = FinishedAt,
        WorkerId = WorkerId,
        LeaseUntil = LeaseUntil,
        IdempotencyKey = IdempotencyKey,
        UniqueUntil = UniqueUntil,
        UniqueWhile = UniqueWhile?.Select(JobStates.Parse).ToArray(),
        ConcurrencyKey = ConcurrencyKey,
        Tags = Tags ?? NewJob.NoTags,
        RequiredCapabilities = RequiredCapabilities ?? [],
        Progress = Progress,
        ProgressMessage = ProgressMessage,
        Result = Result?.GetRawText(),
        CancelRequestedAt = CancelRequestedAt,
        CheckpointSize = CheckpointSize,
        CheckpointAt = CheckpointAt,
        Limits = Limits,
        WorkflowId = WorkflowId is null ? null : Guid.Parse(WorkflowId),
        Step = Step,
        TraceParent = Traceparent,
        TraceState = Tracestate,
        Errors = Errors?.Select(e => new JobAttemptError(e.Attempt, e.At, e.WorkerId, new JobError(e.Kind, e.Message, e.Type, e.StackTrace))).ToArray() ?? [],
        Usage = Attempts ?? [],
    };

    private static JsonElement? Parse(string? json)
    {
        if (json is null) return null;
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}

/// <summary>One failed attempt's error, as <see cref="JobView.Errors"/> lists it.</summary>
/// <param name="Attempt">The attempt that failed.</param>
/// <param name="At">When it failed.</param>
/// <param name="WorkerId">The worker that ran it, if known.</param>
/// <param name="Kind">What ended it: <c>exception</c>, <c>timeout</c>, <c>worker_lost</c>, ….</param>
/// <param name="Type">The exception's type, if any.</param>
/// <param name="Message">The error's message.</param>
/// <param name="StackTrace">The exception's stack trace, if any.</param>
public sealed record ErrorView(int Attempt, DateTimeOffset At, string? WorkerId, string Kind, string? Type, string Message, string? StackTrace);

/// <summary>One line a handler logged, as <c>GET /api/v1/jobs/{id}/logs</c> returns it.</summary>
/// <param name="Attempt">The attempt that logged it.</param>
/// <param name="N">Its number within the attempt, from 1.</param>
/// <param name="At">When it was logged.</param>
/// <param name="Level">Its level (<c>information</c>, <c>warning</c>, …).</param>
/// <param name="Message">The text.</param>
public sealed record LogLineView(int Attempt, int N, DateTimeOffset At, string Level, string Message);

/// <summary>One enqueued job, as <c>POST /api/v1/jobs</c> answers.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="State">Its state after the enqueue.</param>
/// <param name="Existing">True when an idempotency key matched a job that already existed (returned instead of a new one).</param>
/// <param name="Type">Its job type.</param>
/// <param name="Queue">Its queue.</param>
public sealed record SubmitView(string Id, string State, bool Existing, string Type, string Queue);

/// <summary>One queue with its job counts per state, as <c>GET /api/v1/queues</c> and <c>gantry queues --json</c> show it.</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Waiting">Jobs waiting for workflow dependencies.</param>
/// <param name="Scheduled">Jobs due later.</param>
/// <param name="Queued">Jobs ready to be claimed.</param>
/// <param name="Running">Jobs running now.</param>
/// <param name="Succeeded">Jobs that succeeded (still kept).</param>
/// <param name="Dead">Jobs that failed for good (still kept).</param>
/// <param name="Cancelled">Jobs cancelled (still kept).</param>
/// <param name="Paused">True when the queue is paused: no job is claimed from it.</param>
public sealed record QueueView(string Queue, long Waiting, long Scheduled, long Queued, long Running, long Succeeded, long Dead, long Cancelled, bool Paused)
{
    /// <summary>Jobs that succeeded in the last minute.</summary>
    public long CompletedPerMinute { get; init; }

    /// <summary>Jobs that went dead in the last minute.</summary>
    public long FailedPerMinute { get; init; }

    /// <summary>How long the longest-waiting queued job has been due, in seconds; null when none is queued.</summary>
    public double? OldestQueuedAgeSeconds { get; init; }

    /// <summary>The queue's flow limits and what counts against them; null when it has none.</summary>
    public QueueLimitsView? Limits { get; init; }

    /// <summary>Every queue with its counts and its limits (a queue with limits and no job yet is listed too).</summary>
    public static async Task<QueueView[]> ListAsync(IJobStore store, DateTimeOffset now, CancellationToken ct)
    {
        var stats = await store.QueueStatsAsync(ct).ConfigureAwait(false);
        var limits = (await store.QueueLimitsListAsync(ct).ConfigureAwait(false)).ToDictionary(l => l.Queue, StringComparer.Ordinal);
        var views = stats.Select(s => From(s, now) with { Limits = limits.TryGetValue(s.Queue, out var l) ? QueueLimitsView.From(l, s[JobState.Queued]) : null }).ToList();
        foreach (var l in limits.Values.Where(l => !views.Any(v => v.Queue == l.Queue)))
            views.Add(new QueueView(l.Queue, 0, 0, 0, 0, 0, 0, 0, false) { Limits = QueueLimitsView.From(l, 0) });
        return views.OrderBy(v => v.Queue, StringComparer.Ordinal).ToArray();
    }

    internal static QueueView From(QueueStats s, DateTimeOffset now) => new(s.Queue, s[JobState.Waiting], s[JobState.Scheduled], s[JobState.Queued],
        s[JobState.Running], s[JobState.Succeeded], s[JobState.Dead], s[JobState.Cancelled], s.Paused)
    {
        CompletedPerMinute = s.SucceededRecently,
        FailedPerMinute = s.DeadRecently,
        OldestQueuedAgeSeconds = s.OldestQueuedAt is { } at ? Math.Round(Math.Max(0, (now - at).TotalSeconds), 3) : null,
    };
}

/// <summary>A queue's flow limits (docs/flow-control.md) as the API and <c>gantry queues --json</c> show them.</summary>
/// <param name="Concurrency">Most jobs of the queue running at once over all workers; null for no limit.</param>
/// <param name="PerKey">Most running at once per concurrency key (a job's <c>concurrency_key</c>); null for no limit.</param>
/// <param name="Rate">Most starts per window (<c>100/s</c>); null for no limit.</param>
/// <param name="Running">The queue's running jobs counted against its limits (slots held, including jobs of a lost worker not yet rescued).</param>
/// <param name="StartedInWindow">Starts within the rate's window (0 without a rate).</param>
/// <param name="HeldBack">Queued jobs a limit holds back now: the backlog while the concurrency limit or the rate is used up, else 0.</param>
public sealed record QueueLimitsView(int? Concurrency, int? PerKey, string? Rate, long Running, long StartedInWindow, long HeldBack)
{
    /// <summary>Most starts of one concurrency key per window (<c>5/s</c>); null for no limit.</summary>
    public string? RatePerKey { get; init; }

    /// <summary>Under a per-key limit, the keys (the jobs without a key counting as one) whose running jobs fill it while more of their jobs wait.</summary>
    public long KeysAtLimit { get; init; }

    internal static QueueLimitsView From(Gantry.Flow.QueueLimitStatus s, long queued) => new(
        s.Limits.Concurrency, s.Limits.PerKey, s.Limits.Rate?.ToString(), s.Running, s.StartedInWindow,
        s.Limits.Concurrency <= s.Running || s.Limits.Rate?.Count <= s.StartedInWindow ? queued : 0)
    {
        RatePerKey = s.Limits.RatePerKey?.ToString(),
        KeysAtLimit = s.KeysAtLimit,
    };

    /// <summary>The limits themselves, as a client of the API reads them.</summary>
    public Gantry.Flow.QueueLimits ToLimits() => new()
    {
        Concurrency = Concurrency,
        PerKey = PerKey,
        Rate = Rate is null ? null : Gantry.Flow.QueueRate.Parse(Rate, "rate"),
        RatePerKey = RatePerKey is null ? null : Gantry.Flow.QueueRate.Parse(RatePerKey, "rate_per_key"),
    };
}

/// <summary>One worker as the API and <c>gantry workers --json</c> show it.</summary>
public sealed record WorkerView
{
    /// <summary>The worker's id.</summary>
    public required string Id { get; init; }
    /// <summary>The name given with <c>--name</c> (or <c>Name</c> in the configuration); null when none was.</summary>
    public string? Name { get; init; }
    /// <summary>The host the worker runs on.</summary>
    public required string Host { get; init; }
    /// <summary>Its process id.</summary>
    public required int Pid { get; init; }
    /// <summary>Its state: <c>running</c>, <c>paused</c>, <c>draining</c>, <c>stopped</c>, <c>dead</c> (a node whose workers all failed: <c>failed</c>).</summary>
    public required string State { get; init; }
    /// <summary>Jobs the store says are running under the worker now (not the last heartbeat's figure).</summary>
    public required int CapacityUsed { get; init; }
    /// <summary>Most jobs it runs at once.</summary>
    public required int Capacity { get; init; }
    /// <summary>The queues it serves, each with the jobs it runs from it at once.</summary>
    public required IReadOnlyDictionary<string, int> Queues { get; init; }
    /// <summary>The job types it has handlers for.</summary>
    public IReadOnlyList<string> JobTypes { get; init; } = [];
    /// <summary>The capabilities it offers (a job's required ones must be among them).</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    /// <summary>Its tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    /// <summary>The Gantry version it runs.</summary>
    public string Version { get; init; } = "";
    /// <summary>When it registered.</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>When it last reported in.</summary>
    public DateTimeOffset LastHeartbeatAt { get; init; }
    /// <summary>The jobs it runs now.</summary>
    public required IReadOnlyList<Guid> RunningJobIds { get; init; }
    /// <summary>For a node: the worker processes it supervises.</summary>
    public IReadOnlyList<ManagedWorkerInfo>? Managed { get; init; }

    internal static WorkerView From(WorkerRecord w, IReadOnlyList<Guid> running) => new()
    {
        Id = w.Id,
        Name = w.Registration.Name,
        Host = w.Registration.Host,
        Pid = w.Registration.ProcessId,
        // A live node whose workers all failed runs nothing: it says so, as its own status does.
        State = WorkerStates.IsLive(w.State) && ManagedWorkerStates.AllFailed(w.Managed.Select(m => m.State)) ? ManagedWorkerStates.Failed : w.State,
        CapacityUsed = running.Count,
        Capacity = w.Registration.Capacity,
        Queues = w.Registration.Queues,
        JobTypes = w.Registration.JobTypes,
        Capabilities = w.Registration.Capabilities,
        Tags = w.Registration.Tags,
        Version = w.Registration.Version,
        StartedAt = w.StartedAt,
        LastHeartbeatAt = w.LastSeenAt,
        RunningJobIds = running,
        Managed = w.Managed.Count > 0 ? w.Managed : null,
    };

    /// <summary>Registered workers with the jobs they run now, most recently seen first: the live ones (running,
    /// paused, draining) and any other still holding jobs; with <paramref name="all"/>, stopped and dead ones too.</summary>
    public static async Task<WorkerView[]> ListAsync(IJobStore store, bool all, CancellationToken ct)
    {
        var workers = await store.WorkerListAsync(ct).ConfigureAwait(false);
        var running = (await store.WorkerRunningJobsAsync(ct).ConfigureAwait(false))
            .GroupBy(j => j.WorkerId).ToDictionary(g => g.Key, g => (IReadOnlyList<Guid>)g.Select(j => j.JobId).ToArray());
        return workers.Select(w => From(w, running.GetValueOrDefault(w.Id) ?? []))
            .Where(v => all || WorkerStates.IsLive(v.State) || v.RunningJobIds.Count > 0).ToArray();
    }
}

/// <summary>A page of jobs, as <c>GET /api/v1/jobs</c> answers.</summary>
/// <param name="Jobs">The jobs, in the order asked for.</param>
/// <param name="NextCursor">The cursor for the next page; null on the last one.</param>
public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? NextCursor);

/// <summary>What a cancel did, as <c>POST /api/v1/jobs/{id}/cancel</c> answers.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="Outcome"><c>cancelled</c> (it was not running) or <c>requested</c> (running: its worker has been asked to stop it).</param>
public sealed record CancelView(string Id, string Outcome);
