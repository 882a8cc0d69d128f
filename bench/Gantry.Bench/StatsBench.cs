using System.Diagnostics;
using Gantry.Storage;

namespace Gantry.Bench;

/// <summary>
/// How long queue statistics take over a large history (<see cref="HistoryFill"/>): <see cref="IStoreCounts.QueueStatsAsync"/>
/// read <c>reads</c> times after one round of the store's upkeep, as the maintenance leader runs it every second.
/// </summary>
public sealed class StatsBench(IJobStore store, int history, int queues, int reads, Action<string> progress)
{
    public async Task<StatsBenchResult> RunAsync(CancellationToken ct)
    {
        var fill = await HistoryFill.RunAsync(store, history, queues, null, progress, ct).ConfigureAwait(false);
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
        var (p50, p99, max) = HistoryFill.Percentiles(times);
        return new StatsBenchResult
        {
            Store = store.Description, History = history, Queues = queues, Reads = reads, JobsCounted = total,
            FillSeconds = Math.Round(fill.TotalSeconds, 1),
            P50Ms = p50, P99Ms = p99, MaxMs = max,
        };
    }
}

public sealed record StatsBenchResult
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
