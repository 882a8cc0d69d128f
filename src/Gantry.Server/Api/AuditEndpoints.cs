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

/// <summary>One audit entry: who did what to what, when.</summary>
/// <param name="Id">The entry's id (also the page cursor).</param>
/// <param name="At">When it happened.</param>
/// <param name="Actor">Who did it: the token's name (<c>loopback</c> on an API open without tokens), or <see cref="Gantry.Storage.Audit.CliActor"/> for the CLI on a store.</param>
/// <param name="Action">What was done (<c>jobs.cancel</c>, <c>queues.pause</c>, …).</param>
/// <param name="Target">What it was done to (a job id, a queue, …).</param>
/// <param name="Count">For a bulk action: how many jobs it touched; null otherwise.</param>
/// <param name="Detail">More about it, if anything.</param>
public sealed record AuditEntryView(string Id, DateTimeOffset At, string Actor, string Action, string Target,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Count,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Detail)
{
    /// <summary>The view of <paramref name="e"/>.</summary>
    public static AuditEntryView From(AuditEntry e) => new(e.Id.ToString(), e.At, e.Actor, e.Action, e.Target, e.Count, e.Detail);
}

/// <summary>A page of the audit log, newest first, as <c>GET /api/v1/audit</c> answers.</summary>
/// <param name="Entries">The entries.</param>
/// <param name="NextCursor">The cursor for the next page; null on the last one.</param>
public sealed record AuditPage(IReadOnlyList<AuditEntryView> Entries, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>The body of <c>POST /api/v1/jobs/bulk/retry</c> and <c>…/cancel</c>: every filter optional, at least one of state,
/// queue, type, tags and concurrency key required.</summary>
public sealed record JobBulkBody
{
    /// <summary>Only jobs in this state.</summary>
    public string? State { get; init; }
    /// <summary>Only jobs of this queue.</summary>
    public string? Queue { get; init; }
    /// <summary>Only jobs of this type.</summary>
    public string? Type { get; init; }
    /// <summary>Only jobs with all these tags.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>Only jobs with this concurrency key.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>True: count the matching jobs, change nothing.</summary>
    public bool? DryRun { get; init; }
    /// <summary>Most jobs to take in this call (the server's default when null).</summary>
    [JsonConverter(typeof(Gantry.Serialization.WholeNumberConverter))]
    public int? Max { get; init; }

    /// <summary>The <c>cursor</c> of the previous answer: the call takes only the jobs after it, so a job comes into an
    /// action at most once (a retried job that dies again is not retried again by the same run).</summary>
    public string? Cursor { get; init; }
}

/// <summary>What a bulk retry or cancel did (or, in a dry run, would do).</summary>
/// <param name="Action"><c>retry</c> or <c>cancel</c>.</param>
/// <param name="DryRun">True when nothing was changed.</param>
/// <param name="Matched">Jobs the filter matched.</param>
/// <param name="Touched">Jobs retried or cancelled by this call.</param>
/// <param name="Remaining">Matching jobs left for a next call.</param>
/// <param name="Cursor">The last job the call looked at; pass it back while <paramref name="Remaining"/> &gt; 0.</param>
public sealed record JobBulkView(string Action, bool DryRun, long Matched, long Touched, long Remaining,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Cursor)
{
    internal static JobBulkView From(JobBulkResult r) => new(r.Action.ToString().ToLowerInvariant(), r.DryRun, r.Matched, r.Touched, r.Remaining, r.Cursor?.ToString());
}
