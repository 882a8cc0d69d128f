using System.Text.Json.Serialization;
using Gantry.Storage;

namespace Gantry.Node.Status;

/// <summary>What <c>gantry node status</c> shows: the node and every worker it manages.</summary>
public sealed record NodeStatus(string NodeId, int Pid, string Link, string State, DateTimeOffset StartedAt, int MinWorkers, int MaxWorkers,
    int WorkerCapacity, bool Paused, IReadOnlyList<ManagedWorkerInfo> Workers)
{
    /// <summary>The node's name for people (<c>--name</c>); null when none was given.</summary>
    public string? Name { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(IReadOnlyList<ManagedWorkerInfo>))]
public sealed partial class NodeStatusJson : JsonSerializerContext;
