using System.Text.Json.Serialization;
using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>/api/v1/audit: the audit log, newest first (entries are appended by <see cref="ApiAudit"/> and the CLI).</summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGroup("/audit").WithTags("Audit").MapGet("/", ListAsync).WithName("ListAudit")
            .WithSummary("The audit log, newest first: who (token name) did what to what, when, and how many jobs it touched; keyset pagination (cursor)")
            .Produces<AuditPage>().WithMetadata(new RequiredScope(ApiScope.Read), new AcceptsQuery("limit", "cursor", "action", "actor"));
    }

    private static async Task<IResult> ListAsync(IJobStore store, CancellationToken ct,
        string? limit = null, string? cursor = null, string? action = null, string? actor = null)
    {
        var n = ApiQuery.Int(limit, "limit", 1, ApiOptions.MaxListDefault) ?? 50;
        Guid? before = cursor is null ? null : JobIds.Parse(cursor, "cursor");
        var page = await store.AuditListAsync(new AuditListParams { Limit = n, Before = before, Action = action, Actor = actor }, ct).ConfigureAwait(false);
        return TypedResults.Ok(new AuditPage(page.Select(AuditEntryView.From).ToArray(), page.Count == n ? page[^1].Id.ToString() : null));
    }
}

public sealed record AuditEntryView(string Id, DateTimeOffset At, string Actor, string Action, string Target,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Count,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Detail)
{
    public static AuditEntryView From(AuditEntry e) => new(e.Id.ToString(), e.At, e.Actor, e.Action, e.Target, e.Count, e.Detail);
}

public sealed record AuditPage(IReadOnlyList<AuditEntryView> Entries, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>The body of <c>POST /api/v1/jobs/bulk/retry</c> and <c>…/cancel</c>: every filter optional, at least one of state,
/// queue, type and tags required.</summary>
public sealed record JobBulkBody
{
    public string? State { get; init; }
    public string? Queue { get; init; }
    public string? Type { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public bool? DryRun { get; init; }
    public int? Max { get; init; }

    /// <summary>The <c>cursor</c> of the previous answer: the call takes only the jobs after it, so a job comes into an
    /// action at most once (a retried job that dies again is not retried again by the same run).</summary>
    public string? Cursor { get; init; }
}

/// <param name="Cursor">The last job the call looked at; pass it back while <paramref name="Remaining"/> &gt; 0.</param>
public sealed record JobBulkView(string Action, bool DryRun, long Matched, long Touched, long Remaining,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Cursor)
{
    public static JobBulkView From(JobBulkResult r) => new(r.Action.ToString().ToLowerInvariant(), r.DryRun, r.Matched, r.Touched, r.Remaining, r.Cursor?.ToString());
}
