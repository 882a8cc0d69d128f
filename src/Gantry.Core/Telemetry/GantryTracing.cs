using System.Diagnostics;
using Gantry.Jobs;

namespace Gantry.Telemetry;

/// <summary>
/// Gantry's traces: one <see cref="ActivitySource"/> (<see cref="SourceName"/>) with a span for each enqueue, each
/// claim that returned jobs, and each attempt a handler runs (the last two started by the worker: <c>AttemptTracing</c>). The W3C trace context of the enqueue (its
/// <c>traceparent</c> and <c>tracestate</c>) is stored with the job and travels with it to whichever worker claims it
/// (store, HTTP worker protocol, node IPC), so that the run of a job is a child of the span that enqueued it, in the
/// trace of the request that did, across processes. An exporter subscribes by the source's name.
/// </summary>
public static class GantryTracing
{
    /// <summary>The activity source's name, <c>Gantry</c>: what an exporter subscribes to.</summary>
    public const string SourceName = "Gantry";

    /// <summary>The source every Gantry span starts from.</summary>
    public static readonly ActivitySource Source = new(SourceName, typeof(GantryTracing).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// The span of one enqueue call (a job, a batch or a workflow's steps), a child of the caller's current span. Jobs
    /// enqueued while it is current record it as their parent (<see cref="CurrentContext"/>). Null when nothing listens.
    /// </summary>
    public static Activity? StartEnqueue(IReadOnlyList<NewJob> jobs, Guid? workflowId = null)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("gantry enqueue", ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "gantry");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.batch.message_count", jobs.Count);
            if (jobs.Count == 1)
            {
                activity.SetTag("gantry.job.id", jobs[0].Id.ToString());
                activity.SetTag("gantry.job.type", jobs[0].Type);
                activity.SetTag("messaging.destination.name", jobs[0].Queue);
            }
            if (workflowId is { } wf) activity.SetTag("gantry.workflow.id", wf.ToString());
        }
        return activity;
    }

    /// <summary>
    /// The W3C trace context a job enqueued now records: the current span's (the enqueue span when one is
    /// recorded, else the caller's), or none outside any trace.
    /// </summary>
    public static (string? TraceParent, string? TraceState) CurrentContext() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? (current.Id, current.TraceStateString) : (null, null);

    /// <summary>Ends a run span with the attempt's outcome (succeeded, failed, dead, cancelled, requeued, lost) and its error.</summary>
    public static void Ended(Activity? activity, string outcome, JobError? error)
    {
        if (activity is null) return;
        activity.SetTag("gantry.job.outcome", outcome);
        if (error is not null)
        {
            activity.SetTag("error.type", error.Kind);
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
        }
        else if (outcome == "succeeded") activity.SetStatus(ActivityStatusCode.Ok);
        activity.Stop();
    }

    /// <summary>The trace id of a stored <c>traceparent</c> (32 hex digits), or null when there is none or it is malformed.</summary>
    public static string? TraceId(string? traceParent) => Parse(traceParent, null) is { } context ? context.TraceId.ToHexString() : null;

    /// <summary>The remote context of a stored <c>traceparent</c> and <c>tracestate</c>, or null when there is none or it is malformed.</summary>
    public static ActivityContext? Parse(string? traceParent, string? traceState) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : null;
}
