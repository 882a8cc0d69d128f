using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Bench;

/// <summary>
/// How much slower a drain is with the cleaner pruning a large history beside it: per round, a fresh SQLite store gets
/// <c>history</c> finished jobs two hours old (retention one hour), then two drains of <c>drain</c> no-op jobs through
/// the store's own claim and completion (claims of 1,000, no handlers), one alone and one beside a round of the cleaner;
/// the order alternates between rounds (the second drain of a round runs on a larger store), so rounds come in pairs.
/// </summary>
public sealed class PruneBench(int history, int drain, int rounds, Action<string> progress)
{
    private const int Batch = 1000;

    public async Task<PruneBenchResult> RunAsync(CancellationToken ct)
    {
        var list = new List<PruneRound>();
        for (var round = 0; round < rounds; round++)
        {
            // A fresh store each round, its history at the low end of the table as a long-running store's is.
            var dir = Directory.CreateTempSubdirectory("gantry-bench-prune-").FullName;
            var clock = new ShiftedClock();
            try
            {
                await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dir, "bench.db"), Time = clock }, ct).ConfigureAwait(false);
                progress($"round {round + 1}: {history:N0} finished jobs made two hours ago");
                clock.Shift = TimeSpan.FromHours(-2);
                await FillAndDrainAsync(store, history, "history", ct).ConfigureAwait(false);
                clock.Shift = TimeSpan.Zero;
                var cleaner = new JobCleaner(store, new MaintenanceOptions { Retention = TimeSpan.FromHours(1) }, NullLogger<JobCleaner>.Instance, clock);
                (double Rate, long Pruned) alone, pruning;
                if (round % 2 == 0)
                {
                    alone = await TimedDrainAsync(store, null, "alone", ct).ConfigureAwait(false);
                    pruning = await TimedDrainAsync(store, cleaner, "pruned", ct).ConfigureAwait(false);
                }
                else
                {
                    pruning = await TimedDrainAsync(store, cleaner, "pruned", ct).ConfigureAwait(false);
                    alone = await TimedDrainAsync(store, null, "alone", ct).ConfigureAwait(false);
                }
                var r = new PruneRound(Math.Round(alone.Rate), Math.Round(pruning.Rate), Math.Round((pruning.Rate / alone.Rate - 1) * 100, 1), pruning.Pruned);
                progress($"round {round + 1}: alone {r.AloneJobsPerSecond:N0} jobs/s, beside pruning {r.PruningJobsPerSecond:N0} jobs/s ({r.ChangePercent:+0.0;-0.0}%), {r.Pruned:N0} pruned meanwhile");
                list.Add(r);
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(dir, recursive: true);
            }
        }
        return new PruneBenchResult
        {
            History = history, Drain = drain, CleanerBatch = MaintenanceOptions.CleanerBatchDefault,
            Rounds = [.. list],
            // Whichever drain runs second runs on a store 200,000 jobs larger, and is slower for it: the mean of the
            // rounds that ran the lone drain first and of those that ran it second cancels that out.
            ChangePercent = Math.Round(new[] { list.Where((_, i) => i % 2 == 0), list.Where((_, i) => i % 2 == 1) }
                .Where(g => g.Any()).Average(g => g.Average(r => r.ChangePercent)), 1),
        };
    }

    private static async Task FillAndDrainAsync(IJobStore store, int count, string queue, CancellationToken ct)
    {
        for (var i = 0; i < count; i += Batch)
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, Math.Min(Batch, count - i))
                .Select(_ => new NewJob { Id = JobIds.New(), Type = "noop", Queue = queue }).ToArray()), ct).ConfigureAwait(false);
        while (true)
        {
            var claimed = await store.JobClaimAsync(new JobClaimParams("bench", [new QueueDemand(queue, Batch)], TimeSpan.FromMinutes(5), []), ct).ConfigureAwait(false);
            if (claimed.Count == 0) return;
            await store.JobReportManyAsync(claimed.Select(c => (JobReport)new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, null)).ToArray(), ct).ConfigureAwait(false);
        }
    }

    private async Task<(double Rate, long Pruned)> TimedDrainAsync(IJobStore store, JobCleaner? cleaner, string queue, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var before = await HistoryAsync(store, ct).ConfigureAwait(false);
        // One round of the cleaner, as it runs every 5 minutes: the whole history in batches, beside the drain.
        var pruning = cleaner is null ? Task.CompletedTask : Task.Run(async () =>
        {
            try { await cleaner.RunOnceAsync(stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        var watch = Stopwatch.StartNew();
        await FillAndDrainAsync(store, drain, queue, ct).ConfigureAwait(false);
        watch.Stop();
        await stop.CancelAsync().ConfigureAwait(false);
        await pruning.ConfigureAwait(false);
        return (drain / watch.Elapsed.TotalSeconds, before - await HistoryAsync(store, ct).ConfigureAwait(false));
    }

    private static async Task<long> HistoryAsync(IJobStore store, CancellationToken ct) =>
        (await store.QueueStatsAsync(ct).ConfigureAwait(false)).FirstOrDefault(q => q.Queue == "history")?[JobState.Succeeded] ?? 0;

    /// <summary>The system clock moved by <see cref="Shift"/>: the history is made in the past.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}

public sealed record PruneRound(double AloneJobsPerSecond, double PruningJobsPerSecond, double ChangePercent, long Pruned);

/// <summary>What <c>gantry bench prune --json</c> prints.</summary>
public sealed record PruneBenchResult
{
    public required int History { get; init; }
    public required int Drain { get; init; }
    public required int CleanerBatch { get; init; }
    public required PruneRound[] Rounds { get; init; }
    /// <summary>The change beside pruning, in percent (negative: slower), with the order of the drains balanced out: the mean
    /// of the rounds that drained alone first and of those that drained alone second.</summary>
    public required double ChangePercent { get; init; }
}
