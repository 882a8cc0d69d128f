using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Output;

/// <summary>The JSON shape of a job printed by <c>--json</c>. Field names follow the job document's.</summary>
internal sealed record JobView
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

internal sealed record ErrorView(int Attempt, DateTimeOffset At, string? WorkerId, string Kind, string? Type, string Message, string? StackTrace);

internal sealed record LogLineView(int Attempt, int N, DateTimeOffset At, string Level, string Message);

internal sealed record SubmitView(string Id, string State, bool Existing, string Type, string Queue);

internal sealed record QueueView(string Queue, long Waiting, long Scheduled, long Queued, long Running, long Succeeded, long Dead, long Cancelled, bool Paused)
{
    public static QueueView From(QueueStats s) => new(s.Queue, s[JobState.Waiting], s[JobState.Scheduled], s[JobState.Queued],
        s[JobState.Running], s[JobState.Succeeded], s[JobState.Dead], s[JobState.Cancelled], s.Paused);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobView[]))]
[JsonSerializable(typeof(SubmitView))]
[JsonSerializable(typeof(LogLineView[]))]
[JsonSerializable(typeof(SubmitView[]))]
[JsonSerializable(typeof(QueueView[]))]
[JsonSerializable(typeof(Bench.BenchResult))]
[JsonSerializable(typeof(Bench.ProcessBenchResult))]
internal sealed partial class CliJson : JsonSerializerContext;
