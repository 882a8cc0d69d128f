using Gantry.Flow;
using Gantry.Protocol;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>/api/v1/queues and /api/v1/workers: counts, pause and resume, drain.</summary>
internal static class QueuesAndWorkersEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var queues = api.MapGroup("/queues").WithTags("Queues");
        queues.MapGet("/", async (IJobStore store, CancellationToken ct) =>
            TypedResults.Ok(await QueueView.ListAsync(store, DateTimeOffset.UtcNow, ct).ConfigureAwait(false)))
            .WithName("ListQueues").WithSummary("Jobs per state in each queue, with its flow limits").WithMetadata(new RequiredScope(ApiScope.Read));
        queues.MapPut("/{name}/limits", async (string name, HttpRequest request, IJobStore store, ApiOptions options, CancellationToken ct) =>
            {
                JobDraft.CheckName(name, "name");
                var limits = QueueLimitsDocument.Read(await RequestBody.ReadAsync(request, options, ct).ConfigureAwait(false));
                await store.QueueLimitsSetAsync(name, limits, ct).ConfigureAwait(false);
                return TypedResults.NoContent();
            })
            .WithName("SetQueueLimits").Accepts<QueueLimitsBody>("application/json").Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Set a queue's flow limits (replacing any it had): concurrency, per_key, rate such as \"100/s\", rate_per_key such as \"5/s\"")
            .WithMetadata(new RequiredScope(ApiScope.Admin));
        queues.MapDelete("/{name}/limits", (string name, IJobStore store, CancellationToken ct) => Queue(name, store.QueueLimitsClearAsync, ct))
            .WithName("ClearQueueLimits").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Remove a queue's flow limits").WithMetadata(new RequiredScope(ApiScope.Admin));
        queues.MapGet("/{name}/keys", async (string name, string? after, string? limit, string? at_limit, IJobStore store, CancellationToken ct) =>
            {
                var query = new QueueKeysQuery(name)
                {
                    After = after,
                    Limit = ApiQuery.Int(limit, "limit", 1, QueueKeysQuery.MaxLimit) ?? QueueKeysQuery.DefaultLimit,
                    AtLimitOnly = ApiQuery.Bool(at_limit, "at_limit"),
                };
                return TypedResults.Ok(QueueKeysView.From(await store.QueueKeysListAsync(query, ct).ConfigureAwait(false)));
            })
            .WithName("ListQueueKeys").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("A per-key queue's concurrency keys with jobs queued or running, in key order (the jobs without a key first): each key's queued and running jobs and whether the per-key limit holds it back; ?after= a page's next_after, ?limit= 1 to 1000 (100), ?at_limit=true only the keys held back")
            .WithMetadata(new RequiredScope(ApiScope.Read), new AcceptsQuery("after", "limit", "at_limit"));
        queues.MapPost("/{name}/pause", (string name, IJobStore store, CancellationToken ct) => Queue(name, store.QueuePauseAsync, ct))
            .WithName("PauseQueue").Produces(StatusCodes.Status204NoContent).WithSummary("Pause a queue: nothing is claimed from it until resumed").WithMetadata(new RequiredScope(ApiScope.Admin));
        queues.MapPost("/{name}/resume", (string name, IJobStore store, CancellationToken ct) => Queue(name, store.QueueResumeAsync, ct))
            .WithName("ResumeQueue").Produces(StatusCodes.Status204NoContent).WithSummary("Resume a paused queue").WithMetadata(new RequiredScope(ApiScope.Admin));

        var workers = api.MapGroup("/workers").WithTags("Workers");
        workers.MapGet("/", async (string? all, IJobStore store, CancellationToken ct) => TypedResults.Ok(await WorkerView.ListAsync(store, ApiQuery.Bool(all, "all"), ct).ConfigureAwait(false)))
            .WithName("ListWorkers").WithSummary("Workers in the registry, most recently seen first: running, paused and draining ones (and any holding jobs); ?all=true adds stopped and dead ones").WithMetadata(new RequiredScope(ApiScope.Read), new AcceptsQuery("all"));
        foreach (var (verb, kind) in new[] { ("drain", WorkerCommandKind.Drain), ("pause", WorkerCommandKind.Pause), ("resume", WorkerCommandKind.Resume), ("shutdown", WorkerCommandKind.Shutdown) })
        {
            workers.MapPost($"/{{id}}/{verb}", async (string id, IJobStore store, CancellationToken ct) =>
            {
                await store.WorkerCommandSendAsync(id, kind, ct).ConfigureAwait(false);
                return TypedResults.Accepted((string?)null, new WorkerCommandView(id, verb));
            }).WithName($"{char.ToUpperInvariant(verb[0])}{verb[1..]}Worker").ProducesProblem(StatusCodes.Status404NotFound).WithSummary($"Ask a worker to {verb}").WithMetadata(new RequiredScope(ApiScope.Admin));
        }
    }

    /// <summary>The body of <c>PUT /api/v1/queues/{name}/limits</c> (read by <see cref="QueueLimitsDocument"/>), for the OpenAPI document.</summary>
    internal sealed record QueueLimitsBody(int? Concurrency, int? PerKey, string? Rate, string? RatePerKey);

    private static async Task<IResult> Queue(string name, Func<string, CancellationToken, Task> act, CancellationToken ct)
    {
        JobDraft.CheckName(name, "name");
        await act(name, ct).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
