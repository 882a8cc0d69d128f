using Gantry.Protocol.Wire;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>
/// /api/v1/worker: the worker protocol, for workers that hold no database credentials ("independent
/// mode"). Each call maps to one store operation; reports are fenced by attempt and worker id just
/// as they are for a worker on the store.
/// </summary>
internal static class WorkerProtocolEndpoints
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static void Map(RouteGroupBuilder api)
    {
        var worker = api.MapGroup("/worker").WithTags("Worker protocol").WithMetadata(new RequiredScope(ApiScope.Worker));
        worker.MapPost("/register", async (WorkerRegistration registration, IJobStore store, ApiOptions options, CancellationToken ct) =>
        {
            registration.Check();
            if (options.DeadWorkerTimeout is { } timeout) HeartbeatRule.Check(registration, timeout);
            await store.WorkerRegisterAsync(registration, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithName("RegisterWorker").Produces(StatusCodes.Status204NoContent).WithSummary("Register (or re-register) a worker: id, host, pid, queues, capacity, job types, capabilities, tags");
        worker.MapPost("/deregister", async (WireWorkerId body, IJobStore store, CancellationToken ct) =>
        {
            body.Check();
            await store.WorkerDeregisterAsync(body.WorkerId, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithName("DeregisterWorker").Produces(StatusCodes.Status204NoContent).WithSummary("Mark a worker stopped");
        worker.MapPost("/fetch", FetchAsync).WithName("FetchJobs").Produces<WireFetchResponse>().WithSummary("Claim up to each queue's limit of jobs under a lease; waits up to wait_seconds (at most 30) for work");
        worker.MapPost("/report", ReportAsync).WithName("ReportJobs").Produces<WireReportResponse>().ProducesProblem(StatusCodes.Status409Conflict).WithSummary("Progress, checkpoints, logs and outcomes, fenced by attempt; a stale single report is 409 unless flag_stale is set");
        worker.MapPost("/heartbeat", async (WireHeartbeatRequest body, IJobStore store, CancellationToken ct) =>
        {
            body.Check();
            var result = await store.WorkerHeartbeatAsync(new WorkerHeartbeatParams(body.WorkerId, TimeSpan.FromSeconds(body.LeaseSeconds),
                body.Jobs.Select(j => new JobLease(j.JobId, j.Attempt)).ToArray(), body.Managed, body.Claims), ct).ConfigureAwait(false);
            return TypedResults.Ok(new WireHeartbeatResponse(Commands(result.Commands), result.LostJobs.Select(l => new WireLease(l.JobId, l.Attempt)).ToArray()));
        }).WithName("Heartbeat").WithSummary("Renew the leases of the attempts a worker holds (and forget the claims it names as taken in); returns its pending commands and the attempts it lost");
        worker.MapPost("/commands", async (WireWorkerId body, IJobStore store, CancellationToken ct) =>
        {
            body.Check();
            return TypedResults.Ok(new WireCommandsResponse(Commands(await store.WorkerCommandsTakeAsync(body.WorkerId, ct).ConfigureAwait(false))));
        })
            .WithName("TakeWorkerCommands").WithSummary("Take a worker's pending commands (cancel a job, drain, pause, resume)");
    }

    /// <summary>The most jobs one fetch claims from one queue.</summary>
    public const int MaxFetch = 4096;

    private static WireCommand[] Commands(IReadOnlyList<WorkerCommand> commands) =>
        commands.Select(c => new WireCommand(c.Kind.ToString(), c.JobId)).ToArray();

    private static async Task<IResult> FetchAsync(WireFetchRequest body, IJobStore store, CancellationToken ct)
    {
        body.Check();
        // One fetch takes at most MaxFetch jobs per queue, whatever a worker asks for: leases are not handed out by the million.
        var claim = new JobClaimParams(body.WorkerId, body.Queues.Select(q => new QueueDemand(q.Queue, Math.Clamp(q.Limit, 0, MaxFetch))).ToArray(),
            TimeSpan.FromSeconds(body.LeaseSeconds), body.Capabilities ?? [], body.JobTypes);
        var wait = TimeSpan.FromSeconds(Math.Clamp(body.WaitSeconds, 0, MaxWait.TotalSeconds));
        var deadline = DateTimeOffset.UtcNow + wait;
        // Taken before the first claim: work that arrives while a claim runs wakes the wait that follows it.
        var wakeups = store.Signals.JobsAvailable.Cursor();
        while (true)
        {
            var jobs = await store.JobClaimAsync(claim, ct).ConfigureAwait(false);
            var left = deadline - DateTimeOffset.UtcNow;
            if (jobs.Count > 0 || left <= TimeSpan.Zero)
                return TypedResults.Ok(WireFetchResponse.From(jobs));
            // Woken at once by work this process's store sees (or, on PostgreSQL, any process's); polls otherwise.
            var poll = store.Signals.PollFor(PollInterval);
            await wakeups.WaitAsync(poll < left ? poll : left, ct).ConfigureAwait(false);
        }
    }

    private static async Task<IResult> ReportAsync(WireReportRequest body, IJobStore store, CancellationToken ct)
    {
        body.Check();
        var reports = body.Reports.Select((r, i) => r.ToReport($"reports[{i}]")).ToArray();
        var applied = await store.JobReportManyAsync(reports, ct).ConfigureAwait(false);
        if (reports.Length == 1 && !applied[0] && !body.FlagStale)
            return ApiProblems.Problem(StatusCodes.Status409Conflict, "Stale report",
                $"job {reports[0].JobId} is no longer attempt {reports[0].Attempt} of worker {reports[0].WorkerId}; the report was not applied");
        return TypedResults.Ok(new WireReportResponse(applied));
    }
}
