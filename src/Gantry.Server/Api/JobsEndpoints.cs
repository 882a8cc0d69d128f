using Gantry.Jobs;
using Gantry.Protocol;
using Gantry.Server.Submission;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>/api/v1/jobs: submit, read, list, cancel, retry, logs.</summary>
internal static class JobsEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/", SubmitAsync).WithName("SubmitJobs").WithSummary("Submit one job document or an array of them (all or none)")
            .Accepts<JobDocument>("application/json").Produces<SubmitView>(StatusCodes.Status201Created).Produces<SubmitView>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithMetadata(new RequiredScope(ApiScope.Submit), new AcceptsQuery("allow_unknown_type"));
        jobs.MapGet("/", ListAsync).WithName("ListJobs").WithSummary("List jobs, newest first, with keyset pagination (cursor)").Produces<JobPage>()
            .WithMetadata(new RequiredScope(ApiScope.Read), new AcceptsQuery("state", "queue", "type", "tag", "concurrency_key", "search", "limit", "cursor") { Repeatable = ["tag"] });
        foreach (var action in new[] { JobBulkAction.Retry, JobBulkAction.Cancel })
        {
            var verb = action.ToString().ToLowerInvariant();
            jobs.MapPost($"/bulk/{verb}", (JobBulkBody body, HttpContext http, IJobStore store, CancellationToken ct) => BulkAsync(action, body, http, store, ct))
                .WithName($"Bulk{action}Jobs")
                .WithSummary(action == JobBulkAction.Retry
                    ? "Retry the dead or cancelled jobs a filter matches, oldest first, at most max (1000) a call; dry_run only counts them. Call again with the answer's cursor while remaining > 0"
                    : "Cancel the waiting, scheduled, queued or running jobs a filter matches, oldest first, at most max (1000) a call; dry_run only counts them. Call again with the answer's cursor while remaining > 0")
                .Accepts<JobBulkBody>("application/json").Produces<JobBulkView>().WithMetadata(new RequiredScope(ApiScope.Admin));
        }
        jobs.MapGet("/{id}", GetAsync).WithName("GetJob")
            .WithSummary("One job, with the error of every failed attempt; ?wait=30s: answered once the job has ended (succeeded, dead or cancelled), or as it is after that long (at most 60s)")
            .Produces<JobView>().ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Read), new AcceptsQuery("wait"));
        jobs.MapPost("/{id}/cancel", CancelAsync).WithName("CancelJob")
            .WithSummary("Cancel a job (a running one is stopped by its worker); ?now=true: without the cancel grace period, its process tree killed at once").Produces<CancelView>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithMetadata(new RequiredScope(ApiScope.Submit), new AcceptsQuery("now"));
        jobs.MapPost("/{id}/retry", RetryAsync).WithName("RetryJob").WithSummary("Put a dead or cancelled job back to queued").Produces<JobView>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).WithMetadata(new RequiredScope(ApiScope.Submit));
        jobs.MapGet("/{id}/logs", LogsAsync).WithName("GetJobLogs").WithSummary("What the job's attempts logged").Produces<LogLineView[]>()
            .ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Read));
        jobs.MapGet("/{id}/events", JobEvents.StreamAsync).WithName("StreamJobEvents").WithSummary("Server-sent events of the job's state and progress until it ends")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream").ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequiredScope(ApiScope.Read));
    }

    private static async Task<IResult> SubmitAsync(HttpRequest request, IJobStore store, ApiOptions options, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "allow_unknown_type")] string? allowUnknown = null)
    {
        var allowUnknownType = ApiQuery.Bool(allowUnknown, "allow_unknown_type");
        var text = await RequestBody.ReadAsync(request, options, ct).ConfigureAwait(false);
        var drafts = JobDocumentReader.ReadDrafts(text, "body", options.Limits);
        if (drafts.Count == 0) throw new InvalidInputException("body", "holds no job document");
        if (drafts.Count > options.Limits.MaxBatch) throw new InvalidInputException("body", $"holds {drafts.Count:N0} jobs, over the batch limit of {options.Limits.MaxBatch:N0}");
        var newJobs = drafts.Select(d => d.Draft.Validate(options.Limits, d.Where)).ToArray();
        var results = await Submit.JobsAsync(store, newJobs, allowUnknownType, options.KnownJobTypes, ct).ConfigureAwait(false);
        var views = results.Select((r, i) => new SubmitView(r.Id.ToString(), r.State.ToText(), r.Existing, newJobs[i].Type, newJobs[i].Queue)).ToArray();
        var isArray = text.AsSpan().TrimStart().StartsWith("[");
        if (!isArray && views.Length == 1)
            return views[0].Existing ? TypedResults.Ok(views[0]) : TypedResults.Created($"/api/v1/jobs/{views[0].Id}", views[0]);
        return views.All(v => v.Existing) ? TypedResults.Ok(views) : TypedResults.Created("/api/v1/jobs", views);
    }

    private static async Task<IResult> GetAsync(string id, string? wait, IJobStore store, TimeProvider time, CancellationToken ct)
    {
        var jobId = JobIds.Parse(id);
        var until = ApiQuery.Duration(wait, "wait", JobWaits.LongestRequest);
        var job = (until is { } w ? await JobWaits.UntilEndedAsync(store, jobId, w, time, ct).ConfigureAwait(false) : await store.JobGetAsync(jobId, ct).ConfigureAwait(false))
            ?? throw new JobNotFoundException(jobId.ToString());
        return TypedResults.Ok(JobView.From(job, withErrors: true));
    }

    private static async Task<IResult> BulkAsync(JobBulkAction action, JobBulkBody body, HttpContext http, IJobStore store, CancellationToken ct)
    {
        JobState? state = null;
        if (body.State is { } text)
            state = JobStates.TryParse(text, out var parsed) ? parsed
                : throw new InvalidInputException("state", $"'{text}' is not a job state (one of {string.Join(", ", JobStates.All.Select(x => x.ToText()))})");
        if (body.Queue is not null) JobDraft.CheckName(body.Queue, "queue");
        if (body.Type is not null) JobDraft.CheckName(body.Type, "type");
        var filter = new JobFilter { State = state, Queue = body.Queue, Type = body.Type, Tags = body.Tags, ConcurrencyKey = body.ConcurrencyKey };
        Guid? cursor = body.Cursor is { } c ? JobIds.Parse(c, "cursor") : null;
        var result = await store.JobBulkAsync(new JobBulkParams(action, filter, body.DryRun ?? false, body.Max ?? JobBulk.DefaultMax, cursor), ct).ConfigureAwait(false);
        // A dry run changes nothing: not an entry of the audit log.
        if (result.DryRun) http.Items[ApiAudit.SkipItem] = true;
        http.Items[ApiAudit.TargetItem] = filter.Describe();
        http.Items[ApiAudit.CountItem] = result.Touched;
        return TypedResults.Ok(JobBulkView.From(result));
    }

    private static async Task<IResult> ListAsync(HttpContext http, IJobStore store, CancellationToken ct,
        string? state = null, string? queue = null, string? type = null, string? search = null, string? limit = null, string? cursor = null,
        string? concurrency_key = null)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in http.Request.Query["tag"])
        {
            var (key, value) = JobSearch.ParseTag(tag ?? "", "tag");
            if (!tags.TryAdd(key, value) && tags[key] != value) throw new InvalidInputException("tag", $"'{key}' is given two values");
        }
        if (search is { Length: 0 }) throw new InvalidInputException("search", "must not be empty");
        JobState? s = null;
        if (state is not null)
            s = JobStates.TryParse(state, out var parsed) ? parsed
                : throw new InvalidInputException("state", $"'{state}' is not a job state (one of {string.Join(", ", JobStates.All.Select(x => x.ToText()))})");
        if (queue is not null) JobDraft.CheckName(queue, "queue");
        if (type is not null) JobDraft.CheckName(type, "type");
        if (concurrency_key is not null) JobDraft.CheckConcurrencyKey(concurrency_key, "concurrency_key");
        var n = ApiQuery.Int(limit, "limit", 1, ApiOptions.MaxListDefault) ?? 50;
        Guid? before = cursor is null ? null : JobIds.Parse(cursor, "cursor");
        var page = await store.JobListAsync(new JobListParams
        {
            State = s, Queue = queue, Type = type, Limit = n, Before = before, Tags = tags, Search = search, ConcurrencyKey = concurrency_key,
        }, ct).ConfigureAwait(false);
        var next = page.Count == n ? page[^1].Id.ToString() : null;
        return TypedResults.Ok(new JobPage(page.Select(j => JobView.From(j, withErrors: false)).ToArray(), next));
    }

    private static async Task<IResult> CancelAsync(string id, string? now, IJobStore store, CancellationToken ct)
    {
        var result = await store.JobCancelAsync(JobIds.Parse(id), ApiQuery.Bool(now, "now"), ct).ConfigureAwait(false);
        return TypedResults.Ok(new CancelView(result.Id.ToString(), result.Outcome == JobCancelOutcome.Cancelled ? "cancelled" : "requested"));
    }

    private static async Task<IResult> RetryAsync(string id, IJobStore store, CancellationToken ct)
    {
        var jobId = JobIds.Parse(id);
        await store.JobRetryAsync(jobId, ct).ConfigureAwait(false);
        var job = await store.JobGetAsync(jobId, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(jobId.ToString());
        return TypedResults.Ok(JobView.From(job, withErrors: true));
    }

    private static async Task<IResult> LogsAsync(string id, IJobStore store, CancellationToken ct)
    {
        var lines = await store.JobLogsAsync(JobIds.Parse(id), ct).ConfigureAwait(false);
        return TypedResults.Ok(lines.Select(l => new LogLineView(l.Attempt, l.Line.Number, l.Line.At, l.Line.Level, l.Line.Message)).ToArray());
    }
}
