using System.Diagnostics;
using Gantry.Storage;
using Gantry.Telemetry;

namespace Gantry.Worker.Execution;

/// <summary>The worker's spans in <see cref="GantryTracing.Source"/>: a claim that returned jobs, and each attempt it runs.</summary>
internal static class AttemptTracing
{
    /// <summary>
    /// The span of one claim that returned jobs, written once it returned (an empty poll leaves no span): it started at
    /// <paramref name="startedAt"/> and links to the trace of each job it took.
    /// </summary>
    public static void Claimed(IReadOnlyList<ClaimedJob> jobs, DateTimeOffset startedAt, string workerId, string link)
    {
        if (jobs.Count == 0 || !GantryTracing.Source.HasListeners()) return;
        var links = new List<ActivityLink>(jobs.Count);
        foreach (var job in jobs)
            if (GantryTracing.Parse(job.TraceParent, job.TraceState) is { } context) links.Add(new ActivityLink(context));
        using var activity = GantryTracing.Source.StartActivity("gantry claim", ActivityKind.Consumer, parentContext: default, links: links, startTime: startedAt);
        if (activity is not { IsAllDataRequested: true }) return;
        activity.SetTag("messaging.system", "gantry");
        activity.SetTag("messaging.operation.type", "receive");
        activity.SetTag("messaging.batch.message_count", jobs.Count);
        activity.SetTag("gantry.worker.id", workerId);
        activity.SetTag("gantry.link", link);
    }

    /// <summary>
    /// The span of one attempt of <paramref name="job"/>, a child of the span that enqueued it (its stored trace context),
    /// current while the handler runs so that what the handler does (jobs it enqueues, calls it makes) joins the trace.
    /// </summary>
    public static Activity? StartRun(ClaimedJob job)
    {
        if (!GantryTracing.Source.HasListeners()) return null;
        var parent = GantryTracing.Parse(job.TraceParent, job.TraceState) ?? default;
        var activity = GantryTracing.Source.StartActivity($"gantry run {job.Type}", ActivityKind.Consumer, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "gantry");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", job.Queue);
            activity.SetTag("gantry.job.id", job.Id.ToString());
            activity.SetTag("gantry.job.type", job.Type);
            activity.SetTag("gantry.job.attempt", job.Attempt);
            activity.SetTag("gantry.worker.id", job.WorkerId);
        }
        return activity;
    }
}
