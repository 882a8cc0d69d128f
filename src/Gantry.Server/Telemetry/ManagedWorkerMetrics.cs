using System.Globalization;
using System.Text;
using Gantry.Storage;

namespace Gantry.Server.Telemetry;

/// <summary>
/// A node's managed worker processes in Prometheus text format, for the node's own <c>/metrics</c>: how many
/// are in each state, and per worker (by its number within the node) its restarts, jobs run, and slots.
/// The jobs run are counted by the node from its workers' reports, so they survive a worker's restart.
/// </summary>
public static class ManagedWorkerMetrics
{
    /// <summary>Appends the node's paused gauge, its workers per state and each worker's counters to <paramref name="sb"/>.</summary>
    public static void WriteTo(StringBuilder sb, string nodeId, bool paused, IReadOnlyList<ManagedWorkerInfo> workers)
    {
        var node = $"node=\"{MetricsCollector.Escape(nodeId)}\"";
        sb.Append("# HELP gantry_node_paused 1 while the node has paused its workers.\n# TYPE gantry_node_paused gauge\n");
        sb.Append(CultureInfo.InvariantCulture, $"gantry_node_paused{{{node}}} {(paused ? 1 : 0)}\n");
        sb.Append("# HELP gantry_node_workers Managed worker processes, by state.\n# TYPE gantry_node_workers gauge\n");
        foreach (var state in ManagedWorkerStates.All)
            sb.Append(CultureInfo.InvariantCulture, $"gantry_node_workers{{{node},state=\"{state}\"}} {workers.Count(w => w.State == state)}\n");
        Series(sb, "gantry_node_worker_restarts_total", "counter", "Times the node started the worker again after it exited or stopped answering.", node, workers, w => w.Restarts);
        Series(sb, "gantry_node_worker_jobs_succeeded_total", "counter", "Jobs the worker ran that succeeded.", node, workers, w => w.Succeeded);
        Series(sb, "gantry_node_worker_jobs_failed_total", "counter", "Attempts the worker ran that failed.", node, workers, w => w.Failed);
        Series(sb, "gantry_node_worker_running", "gauge", "Jobs the worker is running now.", node, workers, w => w.Running);
        Series(sb, "gantry_node_worker_capacity", "gauge", "The worker's slots.", node, workers, w => w.Capacity);
    }

    private static void Series(StringBuilder sb, string name, string type, string help, string node, IReadOnlyList<ManagedWorkerInfo> workers, Func<ManagedWorkerInfo, long> value)
    {
        sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
        foreach (var w in workers.OrderBy(w => w.LocalId))
            sb.Append(CultureInfo.InvariantCulture, $"{name}{{{node},worker=\"{w.LocalId}\"}} {value(w)}\n");
    }
}
