using System.Text.Json.Serialization;
using Gantry.Storage;

namespace Gantry.Node.Status;

/// <summary>What <c>gantry node status</c> shows: the node and every worker it manages.</summary>
/// <param name="NodeId">The node's id (<see cref="NodeOptions.NodeId"/>).</param>
/// <param name="Pid">The node's process id.</param>
/// <param name="Link">The coordinator the node is linked to, for people (a store or a server's URL).</param>
/// <param name="State"><c>running</c>, <c>paused</c>, <c>stopping</c>, or <c>failed</c> when every worker has failed.</param>
/// <param name="StartedAt">When the node started.</param>
/// <param name="MinWorkers">Fewest workers the autoscaler keeps.</param>
/// <param name="MaxWorkers">Most workers the autoscaler starts.</param>
/// <param name="WorkerCapacity">Most jobs one worker runs at once.</param>
/// <param name="Paused">Whether a pause command holds the node: it claims nothing until resumed.</param>
/// <param name="Workers">Every worker the node manages.</param>
public sealed record NodeStatus(string NodeId, int Pid, string Link, string State, DateTimeOffset StartedAt, int MinWorkers, int MaxWorkers,
    int WorkerCapacity, bool Paused, IReadOnlyList<ManagedWorkerInfo> Workers)
{
    /// <summary>The node's name for people (<c>--name</c>); null when none was given.</summary>
    public string? Name { get; init; }
}

/// <summary>The JSON of <see cref="NodeStatus"/> (snake_case, indented), as the node's socket and <c>gantry node status --json</c> give it.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(IReadOnlyList<ManagedWorkerInfo>))]
public sealed partial class NodeStatusJson : JsonSerializerContext;
