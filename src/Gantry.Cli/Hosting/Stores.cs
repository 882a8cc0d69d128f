using Gantry.Storage;
using Gantry.Storage.Sqlite;

namespace Gantry.Cli.Hosting;

/// <summary>Opens the store a command names. One place, so that later backends plug in here.</summary>
internal static class Stores
{
    public static async Task<IJobStore> OpenAsync(string db, bool createIfMissing, CancellationToken ct) =>
        await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = db, CreateIfMissing = createIfMissing }, ct).ConfigureAwait(false);
}
