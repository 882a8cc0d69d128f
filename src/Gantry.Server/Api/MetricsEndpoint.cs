using System.Globalization;
using System.Text;
using Gantry.Jobs;
using Gantry.Server.Telemetry;
using Gantry.Storage;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format: what the store says now, so that any server
/// answers for the whole system (jobs by queue and state, paused queues, workers by state), then the
/// counters and histograms this process recorded (<see cref="MetricsCollector"/>).
/// </summary>
internal static class MetricsEndpoint
{
    public static async Task<IResult> RenderAsync(IJobStore store, MetricsCollector collector, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# HELP gantry_jobs Jobs in the store, by queue and state (the whole cluster).");
        sb.AppendLine("# TYPE gantry_jobs gauge");
        var stats = await store.QueueStatsAsync(ct).ConfigureAwait(false);
        foreach (var queue in stats)
            foreach (var state in JobStates.All)
                sb.Append(CultureInfo.InvariantCulture, $"gantry_jobs{{queue=\"{Escape(queue.Queue)}\",state=\"{state.ToText()}\"}} {queue[state]}\n");
        sb.AppendLine("# HELP gantry_queue_paused 1 when the queue is paused (from the store).");
        sb.AppendLine("# TYPE gantry_queue_paused gauge");
        foreach (var queue in stats)
            sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_paused{{queue=\"{Escape(queue.Queue)}\"}} {(queue.Paused ? 1 : 0)}\n");
        sb.AppendLine("# HELP gantry_workers Workers in the store's registry, by state (the whole cluster).");
        sb.AppendLine("# TYPE gantry_workers gauge");
        foreach (var group in (await store.WorkerListAsync(ct).ConfigureAwait(false)).GroupBy(w => w.State).OrderBy(g => g.Key, StringComparer.Ordinal))
            sb.Append(CultureInfo.InvariantCulture, $"gantry_workers{{state=\"{Escape(group.Key)}\"}} {group.Count()}\n");
        sb.AppendLine("# HELP gantry_queue_oldest_queued_age_seconds How long the longest-waiting queued job has been due (from the store).");
        sb.AppendLine("# TYPE gantry_queue_oldest_queued_age_seconds gauge");
        var now = DateTimeOffset.UtcNow;
        foreach (var queue in stats)
            sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_oldest_queued_age_seconds{{queue=\"{Escape(queue.Queue)}\"}} {(queue.OldestQueuedAt is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0)}\n");
        var limits = await store.QueueLimitsListAsync(ct).ConfigureAwait(false);
        if (limits.Count > 0)
        {
            var queued = stats.ToDictionary(q => q.Queue, q => q[JobState.Queued], StringComparer.Ordinal);
            sb.AppendLine("# HELP gantry_queue_limit_running Running jobs counted against the queue's flow limits (the whole cluster).");
            sb.AppendLine("# TYPE gantry_queue_limit_running gauge");
            foreach (var l in limits) sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_limit_running{{queue=\"{Escape(l.Queue)}\"}} {l.Running}\n");
            sb.AppendLine("# HELP gantry_queue_limit_concurrency The queue's cluster-wide concurrency limit.");
            sb.AppendLine("# TYPE gantry_queue_limit_concurrency gauge");
            foreach (var l in limits.Where(l => l.Limits.Concurrency is not null))
                sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_limit_concurrency{{queue=\"{Escape(l.Queue)}\"}} {l.Limits.Concurrency}\n");
            sb.AppendLine("# HELP gantry_queue_limit_per_key The queue's per-key concurrency limit.");
            sb.AppendLine("# TYPE gantry_queue_limit_per_key gauge");
            foreach (var l in limits.Where(l => l.Limits.PerKey is not null))
                sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_limit_per_key{{queue=\"{Escape(l.Queue)}\"}} {l.Limits.PerKey}\n");
            sb.AppendLine("# HELP gantry_queue_limit_rate_starts Starts within the queue's rate window, and the rate's limit.");
            sb.AppendLine("# TYPE gantry_queue_limit_rate_starts gauge");
            foreach (var l in limits.Where(l => l.Limits.Rate is not null))
                sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_limit_rate_starts{{queue=\"{Escape(l.Queue)}\",window_seconds=\"{l.Limits.Rate!.Per.TotalSeconds}\",limit=\"{l.Limits.Rate.Count}\"}} {l.StartedInWindow}\n");
            sb.AppendLine("# HELP gantry_queue_limit_rate_per_key The queue's rate per concurrency key: most starts of one key per window.");
            sb.AppendLine("# TYPE gantry_queue_limit_rate_per_key gauge");
            foreach (var l in limits.Where(l => l.Limits.RatePerKey is not null))
                sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_limit_rate_per_key{{queue=\"{Escape(l.Queue)}\",window_seconds=\"{l.Limits.RatePerKey!.Per.TotalSeconds}\"}} {l.Limits.RatePerKey.Count}\n");
            sb.AppendLine("# HELP gantry_queue_held_back Queued jobs held back by a used-up concurrency limit or rate.");
            sb.AppendLine("# TYPE gantry_queue_held_back gauge");
            foreach (var l in limits)
                sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_held_back{{queue=\"{Escape(l.Queue)}\"}} {QueueLimitsView.From(l, queued.GetValueOrDefault(l.Queue)).HeldBack}\n");
            sb.AppendLine("# HELP gantry_queue_keys_at_limit Concurrency keys whose running jobs fill the queue's per-key limit while more of their jobs wait.");
            sb.AppendLine("# TYPE gantry_queue_keys_at_limit gauge");
            foreach (var l in limits.Where(l => l.Limits.PerKey is not null))
                sb.Append(CultureInfo.InvariantCulture, $"gantry_queue_keys_at_limit{{queue=\"{Escape(l.Queue)}\"}} {l.KeysAtLimit}\n");
        }
        // This process's own counters and histograms (gantry_process_*): what its worker ran, what its API accepted, what its rescuer took back.
        collector.WriteTo(sb);
        return TypedResults.Text(sb.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    /// <summary>Only this process's counters and histograms: for a worker or a node, which have no store to count from;
    /// <paramref name="first"/> writes what the process knows besides (a node: its managed workers).</summary>
    public static IResult RenderOwn(MetricsCollector collector, Action<StringBuilder>? first = null)
    {
        var sb = new StringBuilder();
        first?.Invoke(sb);
        collector.WriteTo(sb);
        return TypedResults.Text(sb.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static string Escape(string value) => MetricsCollector.Escape(value);
}
