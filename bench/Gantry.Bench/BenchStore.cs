using Gantry.Hosting;
using Gantry.Storage;

namespace Gantry.Bench;

/// <summary>The fresh store a benchmark runs on: it drains every job it finds and leaves its own behind, so it never runs on a store in use.</summary>
public static class BenchStore
{
    /// <summary>Throws, naming <c>--store</c>, when <paramref name="store"/> holds any job.</summary>
    public static async Task RequireEmptyAsync(IJobStore store, CancellationToken ct)
    {
        var held = (await store.QueueStatsAsync(ct).ConfigureAwait(false)).Sum(q => q.Counts.Values.Sum());
        if (held > 0)
            throw new InvalidInputException("--store", $"{store.Description} holds {held:N0} job(s); the benchmark needs a fresh store (a new database or ?schema=)");
    }

    /// <summary>
    /// Runs <paramref name="run"/> on a fresh store: the one <paramref name="location"/> names (<c>--store</c>; it must hold
    /// no jobs, and an SQLite file must not exist yet), else the new SQLite file <paramref name="db"/> (<c>--db</c>; it must not
    /// exist), else a temporary file deleted afterwards.
    /// </summary>
    public static async Task<T> WithFreshStoreAsync<T>(StoreLocation? location, string? db, Func<IJobStore, Task<T>> run, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (location is not null)
        {
            if (location is SqliteLocation { Path: var file } && File.Exists(file))
                throw new InvalidInputException("--store", $"{file} exists; the benchmark needs a fresh store");
            await using var given = await Stores.OpenAsync(location, createIfMissing: true, ct).ConfigureAwait(false);
            await RequireEmptyAsync(given, ct).ConfigureAwait(false);
            return await run(given).ConfigureAwait(false);
        }
        if (db is not null && File.Exists(db)) throw new InvalidInputException("--db", $"{db} exists; the benchmark needs a fresh store");
        var dir = db is null ? Directory.CreateTempSubdirectory("gantry-bench-").FullName : null;
        try
        {
            await using var fresh = await Stores.OpenAsync(new SqliteLocation(db ?? Path.Combine(dir!, "bench.db")), createIfMissing: true, ct).ConfigureAwait(false);
            return await run(fresh).ConfigureAwait(false);
        }
        finally
        {
            if (dir is not null) Directory.Delete(dir, recursive: true);
        }
    }
}
