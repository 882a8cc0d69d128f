using System.Globalization;
using System.Text;

namespace Gantry.Server.Telemetry;

/// <summary>
/// A worker's state as gauges in Prometheus text format, for its own <c>/metrics</c>: written on every scrape
/// from what the worker holds, so they are there from the first scrape, before any job ran.
/// </summary>
public static class WorkerGauges
{
    /// <summary>Appends the worker's gauges (running, capacity, paused, draining, held leases, heartbeat age) to <paramref name="sb"/>, labelled with <paramref name="workerId"/>.</summary>
    public static void WriteTo(StringBuilder sb, string workerId, int running, int capacity, bool paused, bool draining, int heldLeases, TimeSpan heartbeatAge)
    {
        var worker = $"worker=\"{MetricsCollector.Escape(workerId)}\"";
        Gauge(sb, "gantry_worker_running", "Jobs the worker is running now.", worker, running);
        Gauge(sb, "gantry_worker_capacity", "The worker's slots.", worker, capacity);
        Gauge(sb, "gantry_worker_paused", "1 while the worker is paused (claiming nothing).", worker, paused ? 1 : 0);
        Gauge(sb, "gantry_worker_draining", "1 while the worker is draining or stopping.", worker, draining ? 1 : 0);
        Gauge(sb, "gantry_worker_held_leases", "Attempts whose lease the worker holds (running, buffered, or outcome not yet written).", worker, heldLeases);
        Gauge(sb, "gantry_worker_heartbeat_age_seconds", "Seconds since the coordinator last renewed the worker's leases (registration or heartbeat).", worker,
            Math.Round(heartbeatAge.TotalSeconds, 3));
    }

    /// <summary>A node's own state beside its managed workers' (<see cref="ManagedWorkerMetrics"/>).</summary>
    public static void WriteNodeTo(StringBuilder sb, string nodeId, bool draining, int heldLeases, TimeSpan heartbeatAge)
    {
        var node = $"node=\"{MetricsCollector.Escape(nodeId)}\"";
        Gauge(sb, "gantry_node_draining", "1 while the node is draining or stopping.", node, draining ? 1 : 0);
        Gauge(sb, "gantry_node_held_leases", "Attempts whose lease the node holds for its workers.", node, heldLeases);
        Gauge(sb, "gantry_node_heartbeat_age_seconds", "Seconds since the coordinator last renewed the node's leases (registration or heartbeat).", node,
            Math.Round(heartbeatAge.TotalSeconds, 3));
    }

    private static void Gauge(StringBuilder sb, string name, string help, string labels, double value) =>
        sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{{labels}}} {value}\n");
}
