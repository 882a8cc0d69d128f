using System.Text.Json;
using Gantry.Server.Dashboard;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gantry.Server.Api;

/// <summary>
/// <c>GET /api/v1/overview</c>: every queue's counts, the last hour per minute, workers and nodes, what needs attention;
/// <c>GET /api/v1/events</c>: the same as server-sent events whenever it changes. Both read the shared
/// <see cref="OverviewSampler"/>, never every job.
/// </summary>
internal static class OverviewEndpoints
{
    /// <summary>How often the event stream looks for a change (one shared sample per second, whatever the number of viewers).</summary>
    public static readonly TimeSpan EventInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>A queue with queued jobs, none done for this long and its oldest job older, is called stuck.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromMinutes(5);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/overview", async (OverviewSampler sampler, CancellationToken ct) =>
                TypedResults.Ok(OverviewView.From(await sampler.CurrentAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false), sampler.Series())))
            .WithTags("Operations").WithName("GetOverview")
            .WithSummary("Every queue's counts by state, paused, limits, done and failed per minute and oldest queued age; the last hour per minute; workers and nodes; what needs attention")
            .Produces<OverviewView>().WithMetadata(new RequiredScope(ApiScope.Read));
        api.MapGet("/events", StreamAsync).WithTags("Operations").WithName("StreamEvents")
            .WithSummary("Server-sent events: an 'overview' event (the body of GET /api/v1/overview) each time queue counts or workers change, checked every second")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream").WithMetadata(new RequiredScope(ApiScope.Read));
    }

    private static async Task StreamAsync(HttpContext http, OverviewSampler sampler, CancellationToken ct)
    {
        var json = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<OverviewView>)http.RequestServices.GetRequiredService<GantryApiServices>().Json.Value.SerializerOptions.GetTypeInfo(typeof(OverviewView));
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        string? last = null;
        var quiet = DateTimeOffset.UtcNow;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var sample = await sampler.CurrentAsync(EventInterval, ct).ConfigureAwait(false);
                var view = OverviewView.From(sample, sampler.Series());
                // Compared without its time, so that an unchanged overview is not sent again.
                var key = JsonSerializer.Serialize(view with { At = default }, json);
                if (key != last)
                {
                    await http.Response.WriteAsync($"event: overview\ndata: {JsonSerializer.Serialize(view, json)}\n\n", ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    last = key;
                    quiet = DateTimeOffset.UtcNow;
                }
                else if (DateTimeOffset.UtcNow - quiet >= KeepAlive)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    quiet = DateTimeOffset.UtcNow;
                }
                await Task.Delay(EventInterval, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The viewer went away.
        }
    }
}

/// <summary>The body of <c>GET /api/v1/overview</c>.</summary>
internal sealed record OverviewView(DateTimeOffset At, IReadOnlyList<OverviewQueueView> Queues, IReadOnlyList<OverviewPointView> Series,
    OverviewWorkersView Workers, IReadOnlyList<AttentionView> Attention)
{
    public static OverviewView From(OverviewSample sample, IReadOnlyList<OverviewPointView> series)
    {
        var queues = sample.Queues.Select(q => new OverviewQueueView(q.Queue,
            new Dictionary<string, long>
            {
                ["waiting"] = q.Waiting, ["scheduled"] = q.Scheduled, ["queued"] = q.Queued, ["running"] = q.Running,
                ["succeeded"] = q.Succeeded, ["dead"] = q.Dead, ["cancelled"] = q.Cancelled,
            },
            q.Paused, q.Limits, q.OldestQueuedAgeSeconds, q.CompletedPerMinute, q.FailedPerMinute)).ToArray();
        var workers = sample.Workers;
        var summary = new OverviewWorkersView(
            workers.Count(w => WorkerStates.IsLive(w.State)), workers.Count(w => w.Managed is not null),
            workers.Where(w => WorkerStates.IsLive(w.State)).Sum(w => w.Capacity), workers.Sum(w => w.CapacityUsed), workers);
        return new OverviewView(sample.At, queues, series, summary, Needs(sample).ToArray());
    }

    private static IEnumerable<AttentionView> Needs(OverviewSample sample)
    {
        var served = sample.Workers.Where(w => WorkerStates.IsLive(w.State)).SelectMany(w => w.Queues.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (var q in sample.Queues)
        {
            if (q.Dead > 0)
                yield return new AttentionView("dead_jobs", $"{q.Dead:N0} dead job{(q.Dead == 1 ? "" : "s")} in queue {q.Queue}", q.Queue, null, q.Dead);
            if (q.Queued > 0 && !q.Paused && q.CompletedPerMinute == 0 && q.OldestQueuedAgeSeconds >= OverviewEndpoints.StuckAfter.TotalSeconds)
                yield return new AttentionView("stuck_queue", $"queue {q.Queue}: {q.Queued:N0} queued, the oldest for {Age(q.OldestQueuedAgeSeconds!.Value)}, none done in the last minute", q.Queue, null, q.Queued);
            if (q.Queued > 0 && !q.Paused && !served.Contains(q.Queue))
                yield return new AttentionView("unserved_queue", $"queue {q.Queue}: {q.Queued:N0} queued and no live worker serves it", q.Queue, null, q.Queued);
        }
        foreach (var w in sample.Workers)
        {
            if (w.State == ManagedWorkerStates.Failed && w.Managed is null)
                yield return new AttentionView("failed_worker", $"worker {w.Id} failed", null, w.Id, null);
            foreach (var m in w.Managed ?? [])
                if (m.State == ManagedWorkerStates.Failed)
                    yield return new AttentionView("failed_node_worker", $"node {w.Id}: worker {m.LocalId} failed after {m.Restarts} restarts{(m.LastError is { } e ? $" ({e})" : "")}", null, w.Id, null);
        }
    }

    private static string Age(double seconds) => seconds >= 3600 ? $"{seconds / 3600:0.#} h" : seconds >= 60 ? $"{seconds / 60:0} min" : $"{seconds:0} s";
}

/// <param name="Counts">Jobs per state: waiting, scheduled, queued, running, succeeded, dead, cancelled.</param>
/// <param name="DonePerMinute">Jobs that succeeded in the last minute.</param>
/// <param name="FailedPerMinute">Jobs that went dead in the last minute.</param>
internal sealed record OverviewQueueView(string Name, IReadOnlyDictionary<string, long> Counts, bool Paused, QueueLimitsView? Limits,
    double? OldestQueuedAgeSeconds, long DonePerMinute, long FailedPerMinute);

/// <summary>One minute of the last hour: jobs succeeded and gone dead in it, and the age of the oldest queued job at its end.</summary>
internal sealed record OverviewPointView(DateTimeOffset At, long Succeeded, long Failed, double QueueWaitSeconds);

/// <summary>Live workers and nodes, their capacity and what they run; <see cref="Items"/> as <c>GET /api/v1/workers</c> gives them.</summary>
internal sealed record OverviewWorkersView(int Live, int Nodes, int Capacity, int CapacityUsed, IReadOnlyList<WorkerView> Items);

/// <summary>Something an operator should look at: <c>dead_jobs</c>, <c>stuck_queue</c>, <c>unserved_queue</c>, <c>failed_worker</c>, <c>failed_node_worker</c>.</summary>
internal sealed record AttentionView(string Kind, string Message, string? Queue, string? Worker, long? Count);
