using Gantry.Storage;

namespace Gantry.Cli.Output;

/// <summary>A node's managed workers as a table: for <c>gantry node status</c> and <c>gantry workers</c>.</summary>
internal static class ManagedWorkerText
{
    public static string Table(IReadOnlyList<ManagedWorkerInfo> workers, DateTimeOffset now, string indent = "") =>
        workers.Count == 0 ? $"{indent}no workers\n" : JobText.Table(
            [$"{indent}LOCAL", "PID", "STATE", "RUNNING", "RESTARTS", "UPTIME", "SUCCEEDED", "FAILED", "LAST ERROR"],
            workers.Select(w => new[]
            {
                $"{indent}w{w.LocalId}", w.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", w.State, $"{w.Running}/{w.Capacity}", $"{w.Restarts}",
                w.StartedAt is { } at && w.State is ManagedWorkerStates.Running or ManagedWorkerStates.Draining ? Durations.Rough(now - at < TimeSpan.Zero ? TimeSpan.Zero : now - at) : "-",
                $"{w.Succeeded}", $"{w.Failed}", w.LastError ?? "-",
            }).ToArray());
}
