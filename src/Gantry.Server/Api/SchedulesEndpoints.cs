using Gantry.Scheduling;
using Gantry.Server.Scheduling;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>/api/v1/schedules: recurring jobs (create or replace, list, read, pause, resume, trigger, remove), and
/// /api/v1/queues/{name}/retention.</summary>
internal static class SchedulesEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var schedules = api.MapGroup("/schedules").WithTags("Schedules");
        schedules.MapGet("/", async (IJobStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.ScheduleListAsync(ct).ConfigureAwait(false)).Select(s => ScheduleView.From(s, DateTimeOffset.UtcNow)).ToArray()))
            .WithName("ListSchedules").WithSummary("Every schedule, by name, with its next three fire times and its last fire").WithMetadata(new RequiredScope(ApiScope.Read));
        schedules.MapPost("/", SaveAsync).WithName("SaveSchedule")
            .WithSummary("Create a schedule, or replace the one with its name: 201 when created, 200 when replaced; ?allow_unknown_type=true for a type no worker serves yet")
            .Accepts<ScheduleDocumentBody>("application/json").Produces<ScheduleSaveView>(StatusCodes.Status201Created).Produces<ScheduleSaveView>()
            .WithMetadata(new RequiredScope(ApiScope.Admin), new AcceptsQuery("allow_unknown_type"));
        schedules.MapGet("/{name}", async (string name, IJobStore store, CancellationToken ct) =>
            TypedResults.Ok(ScheduleView.From(await store.ScheduleGetAsync(name, ct).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(name), DateTimeOffset.UtcNow)))
            .WithName("GetSchedule").WithSummary("One schedule").Produces<ScheduleView>().ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Read));
        schedules.MapDelete("/{name}", async (string name, IJobStore store, CancellationToken ct) =>
        {
            await store.ScheduleDeleteAsync(name, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithName("RemoveSchedule").WithSummary("Remove a schedule (the jobs it made stay)").ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Admin));
        foreach (var (verb, paused) in new[] { ("pause", true), ("resume", false) })
        {
            schedules.MapPost($"/{{name}}/{verb}", async (string name, IJobStore store, CancellationToken ct) =>
            {
                await store.SchedulePauseAsync(name, paused, ct).ConfigureAwait(false);
                return TypedResults.NoContent();
            }).WithName($"{char.ToUpperInvariant(verb[0])}{verb[1..]}Schedule")
                .WithSummary(paused ? "Pause a schedule: nothing fires until resumed" : "Resume a schedule; fires that fell in the pause are not made up")
                .ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Admin));
        }
        schedules.MapPost("/{name}/trigger", async (string name, IJobStore store, CancellationToken ct) =>
        {
            var (fireTime, jobId) = await Schedules.TriggerAsync(store, name, TimeProvider.System, ct).ConfigureAwait(false);
            var job = jobId?.ToString();
            return TypedResults.Created(job is null ? null : $"/api/v1/jobs/{job}", new ScheduleTriggerView(name, fireTime, job));
        }).WithName("TriggerSchedule").WithSummary("Fire a schedule now, once, outside its expression").Produces<ScheduleTriggerView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Submit));

        var queues = api.MapGroup("/queues").WithTags("Queues");
        queues.MapGet("/retention", async (IJobStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.QueueRetentionListAsync(ct).ConfigureAwait(false)).Select(QueueRetentionView.From).ToArray()))
            .WithName("ListQueueRetention").WithSummary("Queues with a retention of their own, per state (others keep the default)").WithMetadata(new RequiredScope(ApiScope.Read));
        queues.MapPut("/{name}/retention", async (string name, QueueRetentionBody body, IJobStore store, CancellationToken ct) =>
        {
            Gantry.Protocol.JobDraft.CheckName(name, "name");
            var retention = body.ToRetention(name);
            await store.QueueRetentionSetAsync(retention, ct).ConfigureAwait(false);
            return TypedResults.Ok(QueueRetentionView.From(retention));
        }).WithName("SetQueueRetention").WithSummary("Set how long a queue's finished jobs are kept, per state, in seconds; a state left out keeps the default")
            .Produces<QueueRetentionView>().WithMetadata(new RequiredScope(ApiScope.Admin));
    }

    private static async Task<IResult> SaveAsync(HttpRequest request, IJobStore store, ApiOptions options, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "allow_unknown_type")] string? allowUnknown = null)
    {
        var allowUnknownType = ApiQuery.Bool(allowUnknown, "allow_unknown_type");
        var text = await RequestBody.ReadAsync(request, options, ct).ConfigureAwait(false);
        var definition = ScheduleDocument.Read(text, "", options.Limits);
        var outcome = await Schedules.AddAsync(store, definition, allowUnknownType, options.KnownJobTypes, ct).ConfigureAwait(false);
        var view = ScheduleView.From(await store.ScheduleGetAsync(definition.Name, ct).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(definition.Name), DateTimeOffset.UtcNow);
        var saved = new ScheduleSaveView(definition.Name, outcome.ToString().ToLowerInvariant(), view);
        return outcome == ScheduleUpsertOutcome.Created ? TypedResults.Created($"/api/v1/schedules/{Uri.EscapeDataString(definition.Name)}", saved) : TypedResults.Ok(saved);
    }
}
