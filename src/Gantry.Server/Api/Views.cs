using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Server.Api;

/// <summary>The JSON shape of a job, for the API and the CLI's <c>--json</c>. Field names follow the job document's.</summary>
public sealed record JobView
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required string Queue { get; init; }
    public required string State { get; init; }
    public int Priority { get; init; }
    public JsonElement Payload { get; init; }
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    public double? TimeoutSeconds { get; init; }
    public double? Progress { get; init; }
    public string? ProgressMessage { get; init; }
    public JsonElement? Result { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? WorkerId { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public DateTimeOffset? CancelRequestedAt { get; init; }
    public string? IdempotencyKey { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public IReadOnlyList<string>? RequiredCapabilities { get; init; }
    public IReadOnlyList<ErrorView>? Errors { get; init; }
    /// <summary>What each process-handler attempt consumed and how its program ended (with the errors: a single job's view).</summary>
    public IReadOnlyList<JobAttemptUsage>? Attempts { get; init; }
    public int? CheckpointSize { get; init; }
    public DateTimeOffset? CheckpointAt { get; init; }
    /// <summary>The job's own process limits (tightening its type's), as its document gave them.</summary>
    public ResourceLimits? Limits { get; init; }
    /// <summary>For a workflow step: its workflow and step name.</summary>
    public string? WorkflowId { get; init; }
    public string? Step { get; init; }
    /// <summary>The trace the job was enqueued in (32 hex digits), and the W3C context of the span that enqueued it: its attempts' spans are children of it.</summary>
    public string? TraceId { get; init; }
    public string? Traceparent { get; init; }
    public string? Tracestate { get; init; }

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

public sealed record ErrorView(int Attempt, DateTimeOffset At, string? WorkerId, string Kind, string? Type, string Message, string? StackTrace);

public sealed record LogLineView(int Attempt, int N, DateTimeOffset At, string Level, string Message);

public sealed record SubmitView(string Id, string State, bool Existing, string Type, string Queue);

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

    public static QueueView From(QueueStats s, DateTimeOffset now) => new(s.Queue, s[JobState.Waiting], s[JobState.Scheduled], s[JobState.Queued],
        s[JobState.Running], s[JobState.Succeeded], s[JobState.Dead], s[JobState.Cancelled], s.Paused)
    {
        CompletedPerMinute = s.SucceededRecently,
        FailedPerMinute = s.DeadRecently,
        OldestQueuedAgeSeconds = s.OldestQueuedAt is { } at ? Math.Round(Math.Max(0, (now - at).TotalSeconds), 3) : null,
    };
}

/// <summary>A queue's flow limits (docs/flow-control.md) as the API and <c>gantry queues --json</c> show them.</summary>
/// <param name="Running">The queue's running jobs counted against its limits (slots held, including jobs of a lost worker not yet rescued).</param>
/// <param name="StartedInWindow">Starts within the rate's window (0 without a rate).</param>
/// <param name="HeldBack">Queued jobs a limit holds back now: the backlog while the concurrency limit or the rate is used up, else 0.</param>
public sealed record QueueLimitsView(int? Concurrency, int? PerKey, string? Rate, long Running, long StartedInWindow, long HeldBack)
{
    public static QueueLimitsView From(Gantry.Flow.QueueLimitStatus s, long queued) => new(
        s.Limits.Concurrency, s.Limits.PerKey, s.Limits.Rate?.ToString(), s.Running, s.StartedInWindow,
        s.Limits.Concurrency <= s.Running || s.Limits.Rate?.Count <= s.StartedInWindow ? queued : 0);

    public Gantry.Flow.QueueLimits ToLimits() => new()
    {
        Concurrency = Concurrency,
        PerKey = PerKey,
        Rate = Rate is null ? null : Gantry.Flow.QueueRate.Parse(Rate, "rate"),
    };
}

/// <summary>One worker as the API and <c>gantry workers --json</c> show it.</summary>
public sealed record WorkerView
{
    public required string Id { get; init; }
    /// <summary>The name given with <c>--name</c> (or <c>Name</c> in the configuration); null when none was.</summary>
    public string? Name { get; init; }
    public required string Host { get; init; }
    public required int Pid { get; init; }
    public required string State { get; init; }
    /// <summary>Jobs the store says are running under the worker now (not the last heartbeat's figure).</summary>
    public required int CapacityUsed { get; init; }
    public required int Capacity { get; init; }
    public required IReadOnlyDictionary<string, int> Queues { get; init; }
    public IReadOnlyList<string> JobTypes { get; init; } = [];
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public string Version { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset LastHeartbeatAt { get; init; }
    public required IReadOnlyList<Guid> RunningJobIds { get; init; }
    /// <summary>For a node: the worker processes it supervises.</summary>
    public IReadOnlyList<ManagedWorkerInfo>? Managed { get; init; }

    public static WorkerView From(WorkerRecord w, IReadOnlyList<Guid> running) => new()
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

public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? NextCursor);

public sealed record CancelView(string Id, string Outcome);
