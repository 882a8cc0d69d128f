using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>
/// The audit log of the API: one endpoint filter on every endpoint of <c>/api/v1</c> appends an entry for each call that
/// changed something and succeeded, so no handler records anything itself. Which calls those are, and the action each
/// records, is the table <see cref="Actions"/> (by endpoint name); submissions and the worker protocol are left out (too
/// many, and not an operator's doing), and a test holds every other mutating endpoint to the table.
/// </summary>
internal static class ApiAudit
{
    /// <summary>Endpoint name → the action it records.</summary>
    public static readonly IReadOnlyDictionary<string, string> Actions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["CancelJob"] = "jobs.cancel",
        ["RetryJob"] = "jobs.retry",
        ["BulkRetryJobs"] = "jobs.bulk_retry",
        ["BulkCancelJobs"] = "jobs.bulk_cancel",
        ["CancelWorkflow"] = "workflows.cancel",
        ["PauseQueue"] = "queues.pause",
        ["ResumeQueue"] = "queues.resume",
        ["SetQueueLimits"] = "queues.limits_set",
        ["ClearQueueLimits"] = "queues.limits_clear",
        ["SetQueueRetention"] = "queues.retention_set",
        ["DrainWorker"] = "workers.drain",
        ["PauseWorker"] = "workers.pause",
        ["ResumeWorker"] = "workers.resume",
        ["ShutdownWorker"] = "workers.shutdown",
        ["SaveSchedule"] = "schedules.save",
        ["RemoveSchedule"] = "schedules.remove",
        ["PauseSchedule"] = "schedules.pause",
        ["ResumeSchedule"] = "schedules.resume",
        ["TriggerSchedule"] = "schedules.trigger",
    };

    /// <summary>Mutating endpoints that are not audited, by name.</summary>
    public static readonly IReadOnlySet<string> NotAudited = new HashSet<string>(StringComparer.Ordinal)
    {
        "SubmitJobs", "SubmitWorkflow",
        "RegisterWorker", "DeregisterWorker", "FetchJobs", "ReportJobs", "Heartbeat", "TakeWorkerCommands",
    };

    /// <summary>Set by a handler (or a dashboard session) to say more than the route does.</summary>
    public const string TargetItem = "gantry.audit.target", CountItem = "gantry.audit.count", DetailItem = "gantry.audit.detail",
        SkipItem = "gantry.audit.skip", ActorItem = "gantry.actor";

    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context).ConfigureAwait(false);
        var http = context.HttpContext;
        var name = http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
        if (name is null || !Actions.TryGetValue(name, out var action) || http.Items.ContainsKey(SkipItem)) return result;
        if (result is IStatusCodeHttpResult { StatusCode: >= 400 }) return result;
        var store = (IJobStore)http.RequestServices.GetService(typeof(IJobStore))!;
        var time = http.RequestServices.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        await store.AuditAppendAsync(new AuditEntry(JobIds.New(time), time.GetUtcNow(), ApiAuthorization.Actor(http), action,
            http.Items[TargetItem] as string ?? Target(http), http.Items[CountItem] as long?, http.Items[DetailItem] as string),
            http.RequestAborted).ConfigureAwait(false);
        return result;
    }

    /// <summary>What the route names: "job 0193…", "queue emails", "worker w-1", "schedule nightly", "workflow 0193…".</summary>
    private static string Target(HttpContext http)
    {
        var values = http.Request.RouteValues;
        var group = http.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) is { } parts
            ? parts.SkipWhile(p => p != "v1").Skip(1).FirstOrDefault() ?? "" : "";
        var noun = group.EndsWith('s') ? group[..^1] : group;
        var key = values.TryGetValue("id", out var id) ? id : values.TryGetValue("name", out var n) ? n : null;
        return key is null ? noun : $"{noun} {key}";
    }
}
