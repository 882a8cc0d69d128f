using System.Text.Json.Serialization;
using Gantry.Storage;

namespace Gantry.Cli.Output;

/// <summary>One worker as <c>gantry workers</c> shows it.</summary>
internal sealed record WorkerView
{
    public required string Id { get; init; }
    public required string Host { get; init; }
    public required int Pid { get; init; }
    public required string State { get; init; }
    public required int CapacityUsed { get; init; }
    public required int Capacity { get; init; }
    public required IReadOnlyDictionary<string, int> Queues { get; init; }
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public string Version { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset LastHeartbeatAt { get; init; }
    public required IReadOnlyList<Guid> RunningJobIds { get; init; }
    /// <summary>For a node: the worker processes it manages.</summary>
    public IReadOnlyList<ManagedWorkerInfo>? Managed { get; init; }

    /// <summary>Capacity used counts the jobs the store says are running under the worker now, not the last heartbeat's figure.</summary>
    public static WorkerView From(WorkerRecord w, IReadOnlyList<Guid> running) => new()
    {
        Id = w.Id,
        Host = w.Registration.Host,
        Pid = w.Registration.ProcessId,
        State = w.State,
        CapacityUsed = running.Count,
        Capacity = w.Registration.Capacity,
        Queues = w.Registration.Queues,
        Capabilities = w.Registration.Capabilities,
        Tags = w.Registration.Tags,
        Version = w.Registration.Version,
        StartedAt = w.StartedAt,
        LastHeartbeatAt = w.LastSeenAt,
        RunningJobIds = running,
        Managed = w.Managed.Count > 0 ? w.Managed : null,
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(WorkerView[]))]
internal sealed partial class WorkerJson : JsonSerializerContext;
