using Gantry.Protocol;
using Gantry.Server.Submission;
using Gantry.Storage;
using Gantry.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>/api/v1/workflows: submit a workflow document, read, list, cancel.</summary>
internal static class WorkflowsEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var workflows = api.MapGroup("/workflows").WithTags("Workflows");
        workflows.MapPost("/", SubmitAsync).WithName("SubmitWorkflow").WithSummary("Submit a workflow document: named steps with depends_on, validated as a DAG, stored all or none")
            .Accepts<WorkflowDocument>("application/json").Produces<WorkflowSubmitView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithMetadata(new RequiredScope(ApiScope.Submit), new AcceptsQuery("allow_unknown_type"));
        workflows.MapGet("/", ListAsync).WithName("ListWorkflows").WithSummary("List workflows, newest first, with their derived state (keyset pagination by cursor)")
            .Produces<WorkflowPage>().WithMetadata(new RequiredScope(ApiScope.Read), new AcceptsQuery("state", "limit", "cursor"));
        workflows.MapGet("/{id}", GetAsync).WithName("GetWorkflow").WithSummary("One workflow with its steps, their states, dependencies and results")
            .Produces<WorkflowView>().ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Read));
        workflows.MapPost("/{id}/cancel", CancelAsync).WithName("CancelWorkflow").WithSummary("Cancel every unfinished step (running ones are stopped by their workers)")
            .Produces<WorkflowCancelView>().ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Submit));
    }

    private static async Task<IResult> SubmitAsync(HttpRequest request, IJobStore store, ApiOptions options, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "allow_unknown_type")] string? allowUnknown = null)
    {
        var allowUnknownType = ApiQuery.Bool(allowUnknown, "allow_unknown_type");
        var text = await RequestBody.ReadAsync(request, options, ct).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidInputException("body", "is empty: send a workflow document");
        // No source prefix: errors name the field as it is in the document (steps.fetch.max_attempts).
        var workflow = WorkflowDocumentReader.Read(text, "", options.Limits);
        var created = await Submit.WorkflowAsync(store, workflow, allowUnknownType, options.KnownJobTypes, ct).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workflows/{created.Id}", created);
    }

    private static async Task<IResult> GetAsync(string id, IJobStore store, CancellationToken ct)
    {
        var workflowId = ParseId(id, "id");
        var workflow = await store.WorkflowGetAsync(workflowId, ct).ConfigureAwait(false) ?? throw new WorkflowNotFoundException(workflowId.ToString());
        return TypedResults.Ok(WorkflowView.From(workflow));
    }

    private static async Task<IResult> ListAsync(IJobStore store, CancellationToken ct, string? state = null, string? limit = null, string? cursor = null)
    {
        WorkflowState? s = null;
        if (state is not null)
            s = WorkflowStates.TryParse(state, out var parsed) ? parsed
                : throw new InvalidInputException("state", $"'{state}' is not a workflow state (one of {string.Join(", ", WorkflowStates.All.Select(x => x.ToText()))})");
        var n = ApiQuery.Int(limit, "limit", 1, ApiOptions.MaxListDefault) ?? 50;
        Guid? before = cursor is null ? null : ParseId(cursor, "cursor");
        var page = await store.WorkflowListAsync(new WorkflowListParams { State = s, Limit = n, Before = before }, ct).ConfigureAwait(false);
        return TypedResults.Ok(new WorkflowPage(page.Select(WorkflowSummaryView.From).ToArray(), page.Count == n ? page[^1].Id.ToString() : null));
    }

    private static async Task<IResult> CancelAsync(string id, IJobStore store, CancellationToken ct)
    {
        var result = await store.WorkflowCancelAsync(ParseId(id, "id"), ct).ConfigureAwait(false);
        return TypedResults.Ok(new WorkflowCancelView(result.Id.ToString(), result.Cancelled, result.Requested));
    }

    private static Guid ParseId(string text, string where) =>
        Guid.TryParse(text?.Trim(), out var id) ? id
            : throw new InvalidInputException(where, $"'{text}' is not a workflow id (expected a UUID such as 0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f)");
}
