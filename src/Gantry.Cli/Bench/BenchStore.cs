using Gantry.Storage;

namespace Gantry.Cli.Bench;

internal static class BenchStore
{
    /// <summary>The benchmark drains every job it finds and leaves its own behind: it must never run on a store in use.</summary>
    public static async Task RequireEmptyAsync(IJobStore store, CancellationToken ct)
    {
        var held = (await store.QueueStatsAsync(ct).ConfigureAwait(false)).Sum(q => q.Counts.Values.Sum());
        if (held > 0)
            throw new InvalidInputException("--store", $"{store.Description} holds {held:N0} job(s); the benchmark needs a fresh store (a new database or ?schema=)");
    }
}
