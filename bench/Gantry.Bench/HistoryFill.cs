using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Bench;

/// <summary>
/// A large history made through the store's own enqueue, claim, reports and heartbeat, as a store in service gets it: batches of
/// <see cref="Batch"/> jobs, each batch one queue (<c>q0</c>, <c>q1</c>, … in turn), every job run to its end, one in a
/// hundred dead; then a small backlog per queue (100, half of it scheduled an hour ahead).
/// </summary>
internal static class HistoryFill
{
    public const int Batch = 1000;

    /// <param name="shape">The job numbered <c>n</c> of the history in queue <c>queue</c> (default: a plain no-op).</param>
    /// <returns>How long the history took to make.</returns>
    public static async Task<TimeSpan> RunAsync(IJobStore store, int history, int queues, Func<int, string, NewJob>? shape, Action<string> progress, CancellationToken ct)
    {
        shape ??= (_, queue) => new NewJob { Id = JobIds.New(), Type = "noop", Queue = queue };
        var fill = Stopwatch.StartNew();
        for (var done = 0; done < history;)
        {
            var n = Math.Min(Batch, history - done);
            var queue = $"q{done / Batch % queues}";
            var first = done;
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, n)
                .Select(i => shape(first + i, queue) with { MaxAttempts = 1 }).ToArray()), ct).ConfigureAwait(false);
            var claimed = await store.JobClaimAsync(new JobClaimParams("bench", [new QueueDemand(queue, n)], TimeSpan.FromMinutes(5), []), ct)
                .ConfigureAwait(false);
            await store.JobReportManyAsync(claimed.Select((c, i) => i % 100 == 0
                ? new JobFailedReport(c.Id, c.Attempt, c.WorkerId, new JobError(JobErrorKinds.Exception, "bench"), JobState.Dead, null)
                : (JobReport)new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, null)).ToArray(), ct).ConfigureAwait(false);
            // As a worker's next heartbeat does: the claim's jobs were taken in, so its lease record goes (PostgreSQL keeps
            // one per claim until then, and the workers view reads them).
            await store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("bench", TimeSpan.FromMinutes(5), [], Claims: claimed.Select(c => c.ClaimId).Distinct().ToArray()), ct)
                .ConfigureAwait(false);
            done += n;
            if (done % 100_000 == 0) progress($"{done:N0} of {history:N0} jobs finished ({fill.Elapsed.TotalSeconds:0}s)");
        }
        var made = fill.Elapsed;
        for (var q = 0; q < queues; q++)
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 100).Select(i => new NewJob
            {
                Id = JobIds.New(), Type = "noop", Queue = $"q{q}", RunAt = i % 2 == 0 ? DateTimeOffset.UtcNow.AddHours(1) : null,
            }).ToArray()), ct).ConfigureAwait(false);
        return made;
    }

    /// <summary>p50, p99 and max of <paramref name="times"/> (milliseconds), rounded to microseconds.</summary>
    public static (double P50, double P99, double Max) Percentiles(List<double> times)
    {
        times.Sort();
        return (Math.Round(times[times.Count / 2], 3), Math.Round(times[Math.Min(times.Count - 1, (int)(times.Count * 0.99))], 3), Math.Round(times[^1], 3));
    }
}
