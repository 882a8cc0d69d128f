using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Bench;

/// <summary>
/// How long queue statistics take over a large history: <c>history</c> jobs run to their end through the store's own
/// enqueue, claim and reports (spread over <c>queues</c> queues; one in a hundred dead), plus a small backlog queued and
/// scheduled, then <see cref="IJobStore.QueueStatsAsync"/> read <c>reads</c> times (after one round of the store's upkeep,
/// as the maintenance leader runs it every second).
/// </summary>
internal sealed class StatsBench(IJobStore store, int history, int queues, int reads, Action<string> progress)
{
    private const int Batch = 1000;

    public async Task<StatsBenchResult> RunAsync(CancellationToken ct)
    {
        var fill = Stopwatch.StartNew();
        for (var done = 0; done < history;)
        {
            var n = Math.Min(Batch, history - done);
            var queue = $"q{done / Batch % queues}";
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, n)
                .Select(_ => new NewJob { Id = JobIds.New(), Type = "noop", Queue = queue, MaxAttempts = 1 }).ToArray()), ct).ConfigureAwait(false);
            var claimed = await store.JobClaimAsync(new JobClaimParams("bench", [new QueueDemand(queue, n)], TimeSpan.FromMinutes(5), []), ct)
                .ConfigureAwait(false);
            await store.JobReportManyAsync(claimed.Select((c, i) => i % 100 == 0
                ? new JobFailedReport(c.Id, c.Attempt, c.WorkerId, new JobError(JobErrorKinds.Exception, "bench"), JobState.Dead, null)
                : (JobReport)new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, null)).ToArray(), ct).ConfigureAwait(false);
            done += n;
            if (done % 100_000 == 0) progress($"{done:N0} of {history:N0} jobs finished ({fill.Elapsed.TotalSeconds:0}s)");
        }
        for (var q = 0; q < queues; q++)
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 100).Select(i => new NewJob
            {
                Id = JobIds.New(), Type = "noop", Queue = $"q{q}", RunAt = i % 2 == 0 ? DateTimeOffset.UtcNow.AddHours(1) : null,
            }).ToArray()), ct).ConfigureAwait(false);
        await store.UpkeepAsync(ct).ConfigureAwait(false);
        var times = new List<double>();
        long total = 0;
        for (var i = 0; i < reads + 3; i++)
        {
            var sw = Stopwatch.StartNew();
            var stats = await store.QueueStatsAsync(ct).ConfigureAwait(false);
            sw.Stop();
            if (i >= 3) times.Add(sw.Elapsed.TotalMilliseconds); // the first reads warm the code and the caches
            total = stats.Sum(s => s.Counts.Values.Sum());
        }
        times.Sort();
        return new StatsBenchResult
        {
            Store = store.Description, History = history, Queues = queues, Reads = reads, JobsCounted = total,
            FillSeconds = Math.Round(fill.Elapsed.TotalSeconds, 1),
            P50Ms = Math.Round(times[times.Count / 2], 3),
            P99Ms = Math.Round(times[Math.Min(times.Count - 1, (int)(times.Count * 0.99))], 3),
            MaxMs = Math.Round(times[^1], 3),
        };
    }
}

internal sealed record StatsBenchResult
{
    public required string Store { get; init; }
    public required int History { get; init; }
    public required int Queues { get; init; }
    public required int Reads { get; init; }
    /// <summary>Every job the statistics counted: the history and the backlog, a check that nothing was missed.</summary>
    public required long JobsCounted { get; init; }
    public required double FillSeconds { get; init; }
    public required double P50Ms { get; init; }
    public required double P99Ms { get; init; }
    public required double MaxMs { get; init; }
}
