using System.CommandLine;
using Gantry.Cli.Hosting;
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

    /// <summary>
    /// Runs <paramref name="run"/> on a fresh store: the one <paramref name="store"/> names (it must hold no jobs),
    /// the new file <paramref name="db"/> names, or a temporary file deleted afterwards.
    /// </summary>
    public static async Task<T> WithFreshStoreAsync<T>(ParseResult parse, Option<string?> db, Option<StoreLocation?> store,
        Func<IJobStore, Task<T>> run, CancellationToken ct)
    {
        if (parse.GetValue(store) is { } location)
        {
            if (location is SqliteLocation { Path: var file } && File.Exists(file))
                throw new InvalidInputException("--store", $"{file} exists; the benchmark needs a fresh store");
            await using var given = await Stores.OpenAsync(location, createIfMissing: true, ct).ConfigureAwait(false);
            await RequireEmptyAsync(given, ct).ConfigureAwait(false);
            return await run(given).ConfigureAwait(false);
        }
        var path = parse.GetValue(db);
        if (path is not null && File.Exists(path)) throw new InvalidInputException("--db", $"{path} exists; the benchmark needs a fresh store");
        var dir = path is null ? Directory.CreateTempSubdirectory("gantry-bench-").FullName : null;
        try
        {
            await using var fresh = await Stores.OpenAsync(path ?? Path.Combine(dir!, "bench.db"), createIfMissing: true, ct).ConfigureAwait(false);
            return await run(fresh).ConfigureAwait(false);
        }
        finally
        {
            if (dir is not null) Directory.Delete(dir, recursive: true);
        }
    }
}
