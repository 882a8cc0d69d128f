using Gantry.Jobs;
using Microsoft.Data.Sqlite;

namespace Gantry.Hosting.Tests;

/// <summary>
/// What <see cref="JobOptions"/>' flow fields must do, through whichever link the client has (the store or a server's
/// API): uniqueness windows hold and release the key as the job document's fields do, and the concurrency key is the
/// job's. Every job waits an hour (scheduled), so no worker runs it meanwhile, and may be of a type no worker
/// serves yet (the server's own worker may be off).
/// </summary>
internal static class FlowOptionsChecks
{
    public static async Task RunAsync(IJobClient jobs, string storeFile, CancellationToken ct)
    {
        var later = TimeSpan.FromHours(1);

        // "At most one pending": the key holds while the job waits, and is free once it is cancelled.
        var pending = new JobOptions { AllowUnknownType = true, Delay = later, IdempotencyKey = "refresh:acct-9", UniqueWhile = [JobState.Scheduled, JobState.Queued] };
        var first = await jobs.EnqueueAsync("greet", new { name = "a" }, pending, ct: ct);
        Assert.Equal(first, await jobs.EnqueueAsync("greet", new { name = "a" }, pending, ct: ct));
        await jobs.CancelAsync(first, ct);
        var second = await jobs.EnqueueAsync("greet", new { name = "a" }, pending, ct: ct);
        Assert.NotEqual(first, second);

        // "At most once per second": the key holds for its window, then a new job takes it.
        var once = new JobOptions { AllowUnknownType = true, Delay = later, IdempotencyKey = "digest:team-4", UniqueFor = TimeSpan.FromSeconds(1) };
        var digest = await jobs.EnqueueAsync("greet", new { name = "b" }, once, ct: ct);
        Assert.Equal(digest, await jobs.EnqueueAsync("greet", new { name = "b" }, once, ct: ct));
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        Assert.NotEqual(digest, await jobs.EnqueueAsync("greet", new { name = "b" }, once, ct: ct));

        // The concurrency key is stored with the job; a bad one is refused naming the field.
        var keyed = await jobs.EnqueueAsync("greet", new { name = "c" }, new JobOptions { AllowUnknownType = true, Delay = later, ConcurrencyKey = "tenant-17" }, ct: ct);
        await using (var c = new SqliteConnection($"Data Source={storeFile};Mode=ReadOnly"))
        {
            await c.OpenAsync(ct);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT concurrency_key FROM jobs WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", keyed.ToString());
            Assert.Equal("tenant-17", await cmd.ExecuteScalarAsync(ct));
        }
        var bad = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("greet", null, new JobOptions { AllowUnknownType = true, ConcurrencyKey = "" }, ct: ct));
        Assert.Contains("concurrency_key", bad.Message + bad.Where, StringComparison.Ordinal);
        var noKey = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("greet", null, new JobOptions { AllowUnknownType = true, UniqueFor = TimeSpan.FromMinutes(1) }, ct: ct));
        Assert.Contains("unique_for", noKey.Message + noKey.Where, StringComparison.Ordinal);
    }
}
