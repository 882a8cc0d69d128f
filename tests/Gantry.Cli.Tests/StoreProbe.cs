using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Storage.Sqlite;

namespace Gantry.Cli.Tests;

/// <summary>Reads the store file the processes under test share.</summary>
internal static class StoreProbe
{
    public static async Task<T> WithStoreAsync<T>(string db, Func<IJobStore, Task<T>> read)
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = db }, CancellationToken.None);
        return await read(store);
    }

    public static Task<JobRecord?> GetAsync(string db, Guid id) => WithStoreAsync(db, s => s.JobGetAsync(id, CancellationToken.None));

    /// <summary>Polls until <paramref name="done"/> holds for the job, or fails after the timeout.</summary>
    public static async Task<JobRecord> WaitForAsync(string db, Guid id, Func<JobRecord, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        JobRecord? job = null;
        while (DateTime.UtcNow < deadline)
        {
            job = await GetAsync(db, id);
            if (job is not null && done(job)) return job;
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {id} did not reach '{what}' within {timeout}; last seen: {job?.State.ToText()} attempt {job?.Attempt}");
    }
}
