using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Gantry.Server.Tests.Scheduling;

/// <summary>
/// A measurement, not a check: how much slower a drain is with the cleaner pruning a large history beside it (SQLite, the
/// store's own claim and completion, no handlers). Runs only with GANTRY_BENCH_PRUNE=&lt;old jobs&gt; set, e.g. 1000000.
/// </summary>
public sealed class PruneBesideDrainBench(ITestOutputHelper output)
{
    private const int Drain = 200_000;
    private const int Batch = 1000;

    [Fact]
    public async Task Drain_WithAndWithoutPruning()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("GANTRY_BENCH_PRUNE"), out var old)) return;
        var results = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            // A fresh store each round, its history at the low end of the table as a long-running store's is.
            var dir = Directory.CreateTempSubdirectory("gantry-prune-").FullName;
            var clock = new ShiftedClock();
            try
            {
                await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dir, "gantry.db"), Time = clock }, CancellationToken.None);
                // History: old finished jobs, made two hours ago.
                clock.Shift = TimeSpan.FromHours(-2);
                await FillAndDrainAsync(store, old, "history");
                clock.Shift = TimeSpan.Zero;
                var cleaner = new JobCleaner(store, new MaintenanceOptions { Retention = TimeSpan.FromHours(1) }, NullLogger<JobCleaner>.Instance, clock);
                // Alternate which drain goes first: the machine drifts.
                double plain, pruning;
                long pruned;
                if (round % 2 == 0)
                {
                    (plain, _) = await TimedDrainAsync(store, null, "alone");
                    (pruning, pruned) = await TimedDrainAsync(store, cleaner, "pruned");
                }
                else
                {
                    (pruning, pruned) = await TimedDrainAsync(store, cleaner, "pruned");
                    (plain, _) = await TimedDrainAsync(store, null, "alone");
                }
                results.Add($"round {round + 1}: drain alone {plain:N0} jobs/s; with pruning {pruning:N0} jobs/s ({(pruning / plain - 1) * 100:+0.0;-0.0}%), {pruned:N0} old jobs pruned meanwhile");
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(dir, recursive: true);
            }
        }
        foreach (var line in results) output.WriteLine(line);
        output.WriteLine($"history {old:N0} old finished jobs, drain {Drain:N0} jobs in claims of {Batch:N0}, cleaner batch {MaintenanceOptions.CleanerBatchDefault:N0}");
    }

    private static async Task FillAndDrainAsync(IJobStore store, int count, string queue)
    {
        for (var i = 0; i < count; i += Batch)
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, Math.Min(Batch, count - i))
                .Select(_ => new NewJob { Id = JobIds.New(), Type = "noop", Queue = queue }).ToArray()), CancellationToken.None);
        while (true)
        {
            var claimed = await store.JobClaimAsync(new JobClaimParams("w", [new QueueDemand(queue, Batch)], TimeSpan.FromMinutes(5), []), CancellationToken.None);
            if (claimed.Count == 0) return;
            await store.JobReportManyAsync(claimed.Select(c => (JobReport)new JobSucceededReport(c.Id, c.Attempt, c.WorkerId, null)).ToArray(), CancellationToken.None);
        }
    }

    private static async Task<(double Rate, long Pruned)> TimedDrainAsync(IJobStore store, JobCleaner? cleaner, string queue)
    {
        using var stop = new CancellationTokenSource();
        var before = await HistoryAsync(store);
        // One round of the cleaner, as it runs every 5 minutes: the whole history in batches, beside the drain.
        var pruning = cleaner is null ? Task.CompletedTask : Task.Run(async () =>
        {
            try { await cleaner.RunOnceAsync(stop.Token); }
            catch (OperationCanceledException) { }
        });
        var watch = Stopwatch.StartNew();
        await FillAndDrainAsync(store, Drain, queue);
        watch.Stop();
        await stop.CancelAsync();
        await pruning;
        return (Drain / watch.Elapsed.TotalSeconds, before - await HistoryAsync(store));
    }

    private static async Task<long> HistoryAsync(IJobStore store) =>
        (await store.QueueStatsAsync(CancellationToken.None)).FirstOrDefault(q => q.Queue == "history")?[JobState.Succeeded] ?? 0;

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
