using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage;

namespace Gantry.Protocol.Wire;

/// <summary>
/// The worker protocol's messages on the wire (HTTP today, the node's IPC later): plain records
/// that map one to one to the store contract, so a worker in any language can speak it from the
/// OpenAPI document alone.
/// </summary>
internal sealed record WireQueueDemand(string Queue, int Limit);

internal sealed record WireFetchRequest(string WorkerId, IReadOnlyList<WireQueueDemand> Queues, double LeaseSeconds,
    IReadOnlyList<string>? Capabilities = null, IReadOnlyList<string>? JobTypes = null, double WaitSeconds = 0);

internal sealed record WireJob(Guid Id, string Type, string Queue, int Priority, RawJson Payload, int Attempt, int MaxAttempts,
    double? TimeoutSeconds, double BackoffBaseSeconds, double BackoffMaxSeconds, string WorkerId, IReadOnlyDictionary<string, string>? Tags,
    DateTimeOffset CreatedAt, string? Checkpoint, DateTimeOffset? CheckpointAt, double? CheckpointIntervalSeconds,
    IReadOnlyDictionary<string, JsonElement>? Dependencies = null, DateTimeOffset? DueAt = null, long? Claim = null,
    string? TraceParent = null, string? TraceState = null, ResourceLimits? Limits = null)
{
    public static WireJob From(ClaimedJob j)
    {
        return new(j.Id, j.Type, j.Queue, j.Priority, new RawJson(j.Payload), j.Attempt, j.MaxAttempts, j.Timeout?.TotalSeconds,
            j.Backoff.Base.TotalSeconds, j.Backoff.Max.TotalSeconds, j.WorkerId, j.Tags.Count > 0 ? j.Tags : null, j.CreatedAt,
            j.Checkpoint is { } c ? Convert.ToBase64String(c) : null, j.CheckpointAt, j.CheckpointInterval?.TotalSeconds,
            j.Dependencies is null ? null : Serialization.JsonElements.ParseAll(j.Dependencies), j.DueAt, j.ClaimId == 0 ? null : j.ClaimId,
            j.TraceParent, j.TraceState, j.Limits);
    }

    public ClaimedJob ToClaimed() => new()
    {
        Id = Id, Type = Type, Queue = Queue, Priority = Priority, Payload = Payload.Text, Attempt = Attempt, MaxAttempts = MaxAttempts,
        Timeout = TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null,
        Backoff = new Backoff(TimeSpan.FromSeconds(BackoffBaseSeconds), TimeSpan.FromSeconds(BackoffMaxSeconds)),
        WorkerId = WorkerId, Tags = Tags ?? NewJob.NoTags, CreatedAt = CreatedAt, DueAt = DueAt ?? CreatedAt,
        Checkpoint = Checkpoint is { } c ? Convert.FromBase64String(c) : null, CheckpointAt = CheckpointAt,
        CheckpointInterval = CheckpointIntervalSeconds is { } ci ? TimeSpan.FromSeconds(ci) : null,
        Dependencies = Dependencies?.ToDictionary(d => d.Key, d => (string?)d.Value.GetRawText()),
        ClaimId = Claim ?? 0,
        TraceParent = TraceParent, TraceState = TraceState, Limits = Limits,
    };
}

/// <summary>A fetch's answer: the jobs claimed, and the queues a flow limit held back (<see cref="Flow.ClaimedJobs.HeldBack"/>):
/// came back short for now but not empty, worth asking again soon rather than at the poll interval. Absent when none.</summary>
internal sealed record WireFetchResponse(IReadOnlyList<WireJob> Jobs, IReadOnlyList<string>? HeldBack = null)
{
    /// <summary>The answer for a store's claim.</summary>
    public static WireFetchResponse From(IReadOnlyList<ClaimedJob> claimed) =>
        new(claimed.Select(WireJob.From).ToArray(), Flow.ClaimedJobs.HeldBackOf(claimed) is { Count: > 0 } held ? held.ToArray() : null);

    /// <summary>The jobs as a claim's result, saying which queues were held back.</summary>
    public IReadOnlyList<ClaimedJob> ToClaimed()
    {
        var jobs = Jobs.Select(j => j.ToClaimed()).ToArray();
        return HeldBack is { Count: > 0 } held ? new Flow.ClaimedJobs(jobs, held) : jobs;
    }
}

/// <summary>One report. <see cref="Kind"/> is progress, succeeded, failed, cancelled, requeued, checkpoint, log or usage.</summary>
internal sealed record WireReport
{
    public required string Kind { get; init; }
    public required Guid JobId { get; init; }
    public required int Attempt { get; init; }
    public required string WorkerId { get; init; }
    public double? Percent { get; init; }
    public string? Message { get; init; }
    public RawJson? Result { get; init; }
    public WireError? Error { get; init; }
    /// <summary>For failed: scheduled (retry at <see cref="RunAt"/>), queued or dead, proposed by the worker's retry policy; the store makes it dead once attempts are used up.</summary>
    public string? Next { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>For checkpoint: the bytes, base64.</summary>
    public string? Data { get; init; }
    public IReadOnlyList<WireLogLine>? Lines { get; init; }
    /// <summary>For usage: what the attempt consumed and how its program ended.</summary>
    public AttemptUsage? Usage { get; init; }

    public static WireReport From(JobReport r)
    {
        var w = new WireReport { Kind = "", JobId = r.JobId, Attempt = r.Attempt, WorkerId = r.WorkerId };
        return r switch
        {
            JobProgressReport p => w with { Kind = "progress", Percent = p.Percent, Message = p.Message },
            JobSucceededReport s => w with { Kind = "succeeded", Result = s.Result is null ? null : new RawJson(s.Result) },
            JobFailedReport f => w with { Kind = "failed", Error = new WireError(f.Error.Kind, f.Error.Message, f.Error.Type, f.Error.StackTrace), Next = f.Next.ToText(), RunAt = f.RunAt },
            JobCancelledReport => w with { Kind = "cancelled" },
            JobRequeuedReport => w with { Kind = "requeued" },
            JobCheckpointReport c => w with { Kind = "checkpoint", Data = Convert.ToBase64String(c.Data) },
            JobUsageReport u => w with { Kind = "usage", Usage = u.Usage },
            JobLogReport l => w with { Kind = "log", Lines = l.Lines.Select(x => new WireLogLine(x.Number, x.At, x.Level, x.Message)).ToArray() },
            _ => throw new ArgumentException($"unknown report {r.GetType().Name}", nameof(r)),
        };
    }

    /// <summary>The store's report; throws <see cref="InvalidInputException"/> naming what is wrong.</summary>
    public JobReport ToReport(string where)
    {
        WireValidation.WorkerId(WorkerId, $"{where}.worker_id");
        if (Attempt < 1) throw new InvalidInputException($"{where}.attempt", $"must be 1 or more (the attempt the report is about), got {Attempt}");
        return ToStoreReport(where);
    }

    private JobReport ToStoreReport(string where) => Kind switch
    {
        "progress" => new JobProgressReport(JobId, Attempt, WorkerId, Percent ?? throw Missing(where, "percent"), Message),
        "succeeded" => new JobSucceededReport(JobId, Attempt, WorkerId, Result?.Text),
        "failed" => new JobFailedReport(JobId, Attempt, WorkerId,
            Error is { Kind: not null, Message: not null } e ? new JobError(e.Kind, e.Message, e.Type, e.StackTrace)
                : throw Missing(where, Error is null ? "error" : Error.Kind is null ? "error.kind" : "error.message"),
            JobStates.TryParse(Next, out var next) && next is JobState.Scheduled or JobState.Queued or JobState.Dead ? next
                : throw new InvalidInputException($"{where}.next", "must be scheduled, queued or dead"),
            Next == "scheduled" && RunAt is null ? throw Missing(where, "run_at") : RunAt),
        "cancelled" => new JobCancelledReport(JobId, Attempt, WorkerId),
        "requeued" => new JobRequeuedReport(JobId, Attempt, WorkerId),
        "checkpoint" => new JobCheckpointReport(JobId, Attempt, WorkerId, Data is { } d ? Base64(d, $"{where}.data") : throw Missing(where, "data")),
        "log" => new JobLogReport(JobId, Attempt, WorkerId, LogLines(Lines ?? throw Missing(where, "lines"), where)),
        "usage" => new JobUsageReport(JobId, Attempt, WorkerId, (Usage ?? throw Missing(where, "usage")).Validated($"{where}.usage")),
        _ => throw new InvalidInputException($"{where}.kind", $"'{Kind}' is not a report kind (progress, succeeded, failed, cancelled, requeued, checkpoint, log, usage)"),
    };

    /// <summary>A line's number identifies it within its attempt (a line sent again replaces itself), so one report names each number once.</summary>
    private static JobLogLine[] LogLines(IReadOnlyList<WireLogLine> lines, string where)
    {
        var seen = new HashSet<int>();
        return lines.Select((l, i) => l is not { Level: not null, Message: not null }
                ? throw new InvalidInputException($"{where}.lines[{i}]", "must be a log line with n, at, level and message")
                : !seen.Add(l.N) ? throw new InvalidInputException($"{where}.lines[{i}].n", $"line {l.N} is given twice in this report")
                : new JobLogLine(l.N, l.At, l.Level, l.Message)).ToArray();
    }

    private static byte[] Base64(string data, string where)
    {
        var bytes = new byte[data.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(data, bytes, out var n) ? bytes[..n] : throw new InvalidInputException(where, "is not base64");
    }

    private static InvalidInputException Missing(string where, string field) => new($"{where}.{field}", "is required for this kind of report");
}

internal sealed record WireError(string Kind, string Message, string? Type = null, string? StackTrace = null);

internal sealed record WireLogLine(int N, DateTimeOffset At, string Level, string Message);

/// <param name="FlagStale">True: a stale report comes back as <c>false</c> in <c>applied</c> even when it is the only one, never as 409.</param>
internal sealed record WireReportRequest(IReadOnlyList<WireReport> Reports, bool FlagStale = false);

/// <summary>Per report, whether the store applied it; a false is a stale attempt.</summary>
internal sealed record WireReportResponse(IReadOnlyList<bool> Applied);

internal sealed record WireLease(Guid JobId, int Attempt);

/// <param name="Managed">A node's worker processes, shown in the registry; absent for a plain worker.</param>
internal sealed record WireHeartbeatRequest(string WorkerId, double LeaseSeconds, IReadOnlyList<WireLease> Jobs, IReadOnlyList<ManagedWorkerInfo>? Managed = null,
    IReadOnlyList<long>? Claims = null);

internal sealed record WireCommand(string Kind, Guid? JobId);

internal sealed record WireHeartbeatResponse(IReadOnlyList<WireCommand> Commands, IReadOnlyList<WireLease> LostJobs);

internal sealed record WireCommandsResponse(IReadOnlyList<WireCommand> Commands);

internal sealed record WireWorkerId(string WorkerId);

/// <summary>What the worker protocol's calls may send.</summary>
internal static class WireLimits
{
    /// <summary>The largest request body a server takes by default (its API's <c>MaxRequestBytes</c>): an HTTP worker's reports go in requests of at most this.</summary>
    public const long MaxRequestBytes = 10 * 1024 * 1024;

}

/// <summary>The worker protocol's JSON: snake_case, nulls left out.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = JobLimits.MaxMessageDepth)]
[JsonSerializable(typeof(WireFetchRequest))]
[JsonSerializable(typeof(WireFetchResponse))]
[JsonSerializable(typeof(WireReportRequest))]
[JsonSerializable(typeof(WireReport))]
[JsonSerializable(typeof(WireReportResponse))]
[JsonSerializable(typeof(WireHeartbeatRequest))]
[JsonSerializable(typeof(WireHeartbeatResponse))]
[JsonSerializable(typeof(WireCommandsResponse))]
[JsonSerializable(typeof(WireWorkerId))]
[JsonSerializable(typeof(WorkerRegistration))]
internal sealed partial class WireJson : JsonSerializerContext;
