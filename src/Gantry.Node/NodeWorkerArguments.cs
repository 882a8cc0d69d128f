using System.Globalization;

namespace Gantry.Node;

/// <summary>
/// What a node's options say to each worker process it starts, before <see cref="NodeOptions.WorkerArguments"/>: its queues,
/// capacity and capabilities, its drain timeout and grace period, and the node's lease and heartbeat (a managed worker's
/// attempts are held under the node's lease). The flags of <c>gantry worker</c>, which every managed worker is.
/// </summary>
public static class NodeWorkerArguments
{
    /// <summary>The arguments after <see cref="NodeOptions.WorkerCommand"/> for <paramref name="node"/>: its queues, capacity, capabilities, drain and lease settings as <c>gantry worker</c> flags.</summary>
    public static IReadOnlyList<string> Of(NodeOptions node)
    {
        ArgumentNullException.ThrowIfNull(node);
        static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{(long)t.TotalMilliseconds}ms");
        var args = new List<string>
        {
            "--queues", string.Join(",", node.Queues.Select(q => string.Create(CultureInfo.InvariantCulture, $"{q.Key}:{q.Value}"))),
            "--drain-timeout", Ms(node.DrainTimeout),
            "--cancel-grace-period", Ms(node.CancelGracePeriod),
            "--lease-duration", Ms(node.LeaseDuration),
            "--heartbeat-interval", Ms(node.EffectiveHeartbeatInterval),
        };
        if (node.WorkerCapacity is { } capacity) args.AddRange(["--capacity", capacity.ToString(CultureInfo.InvariantCulture)]);
        if (node.Capabilities.Count > 0) args.AddRange(["--capabilities", string.Join(",", node.Capabilities)]);
        return args;
    }

    /// <summary><paramref name="node"/> with <see cref="Of"/> ahead of its own <see cref="NodeOptions.WorkerArguments"/>.</summary>
    public static NodeOptions Prepend(NodeOptions node) => node with { WorkerArguments = [.. Of(node), .. node.WorkerArguments] };
}
