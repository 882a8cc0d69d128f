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
    public int? CheckpointSize { get; init; }
    public DateTimeOffset? CheckpointAt { get; init; }

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
        Errors = withErrors ? j.Errors.Select(e => new ErrorView(e.Attempt, e.At, e.WorkerId, e.Error.Kind, e.Error.Type, e.Error.Message, e.Error.StackTrace)).ToArray() : null,
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
    public static QueueView From(QueueStats s) => new(s.Queue, s[JobState.Waiting], s[JobState.Scheduled], s[JobState.Queued],
        s[JobState.Running], s[JobState.Succeeded], s[JobState.Dead], s[JobState.Cancelled], s.Paused);
}

public sealed record WorkerView(string Id, string Host, int Pid, string Version, string State, int Capacity, int RunningJobs,
    IReadOnlyDictionary<string, int> Queues, IReadOnlyList<string> JobTypes, IReadOnlyList<string> Capabilities,
    IReadOnlyDictionary<string, string> Tags, DateTimeOffset StartedAt, DateTimeOffset LastSeenAt, IReadOnlyList<ManagedWorkerInfo>? Managed = null)
{
    public static WorkerView From(WorkerRecord w) => new(w.Id, w.Registration.Host, w.Registration.ProcessId, w.Registration.Version, w.State,
        w.Registration.Capacity, w.RunningJobs, w.Registration.Queues, w.Registration.JobTypes, w.Registration.Capabilities,
        w.Registration.Tags, w.StartedAt, w.LastSeenAt, w.Managed.Count > 0 ? w.Managed : null);
}

public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? NextCursor);

public sealed record CancelView(string Id, string Outcome);
