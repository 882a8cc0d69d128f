using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.ContractTests.Sqlite;

/// <summary>Flow-control migrations on a live SQLite store: the marked running jobs of a queue limited without keys become
/// its running total (migration 15), exactly; a per-key queue keeps its marks.</summary>
public sealed class SqliteFlowMigrationTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Task<SqliteJobStore> OpenAsync(string path) => SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path }, Ct);

    private static Task<IReadOnlyList<ClaimedJob>> ClaimAsync(IJobStore store, string queue, int limit) =>
        store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand(queue, limit)], TimeSpan.FromMinutes(1), [], null), Ct);

    private static long Scalar(string path, string sql)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    /// <summary>Takes the file back to version 14 (migration 15 can then run again): every running job of a limited queue
    /// marked, as version 14 kept them, no running total, and a counting trigger of that name for the migration to replace.</summary>
    private const string UndoMigration15 = $"""
        {UndoMigration16}
        UPDATE jobs SET slot = 1 WHERE state = 'running' AND queue IN (SELECT queue FROM queue_limits);
        DROP TRIGGER jobs_counts_changed;
        ALTER TABLE queue_limits DROP COLUMN held;
        CREATE TRIGGER jobs_counts_changed AFTER UPDATE OF run_at ON jobs BEGIN SELECT 1; END;
        DELETE FROM gantry_migrations WHERE version >= 15;
        SELECT 0
        """;

    /// <summary>Takes the file back to version 15 (migration 16 can then run again): no mark on jobs without a key.</summary>
    private const string UndoMigration16 = """
        DROP INDEX jobs_unkeyed_claim;
        ALTER TABLE jobs DROP COLUMN unkeyed_turn;
        DELETE FROM gantry_migrations WHERE version >= 16;
        """;

    [Fact]
    public async Task Migration16_OnAStoreWithAPerKeyQueue_MarksItsJobsWithoutAKey_TheClaimFindsThemBehindTheBacklog()
    {
        var path = _dir.File("unkeyed.db");
        NewJob Job(string queue, string? key, int priority = 0) => new() { Id = JobIds.New(), Type = "t", Queue = queue, ConcurrencyKey = key, Priority = priority };
        var unkeyed = Job("k", null);
        var plain = Job("p", null);
        await using (var store = await OpenAsync(path))
        {
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 1500).Select(_ => Job("k", "big", priority: 5)).Append(unkeyed).Append(plain).ToArray()), Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("k", new QueueLimits { PerKey = 1 }, Ct);
        }
        Scalar(path, UndoMigration16 + "SELECT 0");

        await using var upgraded = await OpenAsync(path);
        Assert.Equal(1L, Scalar(path, "SELECT count(*) FROM jobs WHERE unkeyed_turn = 1"));
        Assert.Equal([unkeyed.Id], (await ClaimAsync(upgraded, "k", 10)).Where(c => c.Priority == 0).Select(c => c.Id));
        Assert.Equal(plain.Id, Assert.Single(await ClaimAsync(upgraded, "p", 10)).Id);
    }

    [Fact]
    public async Task Migration15_OnAStoreWithMarkedJobs_TotalsExactlyTheRunningJobsOfQueuesLimitedWithoutKeys()
    {
        var path = _dir.File("flow.db");
        await using (var store = await OpenAsync(path))
        {
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 12).Select(_ => new NewJob { Id = JobIds.New(), Type = "t", Queue = "q" }).ToArray()), Ct);
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 6).Select(i => new NewJob { Id = JobIds.New(), Type = "t", Queue = "k", ConcurrencyKey = $"k{i % 2}" }).ToArray()), Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("q", new QueueLimits { Concurrency = 5 }, Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("k", new QueueLimits { PerKey = 2 }, Ct);
            var running = await ClaimAsync(store, "q", 10);
            Assert.Equal(5, running.Count);
            Assert.Equal(4, (await ClaimAsync(store, "k", 10)).Count);
            Assert.True(Assert.Single(await store.JobReportManyAsync([new JobSucceededReport(running[0].Id, running[0].Attempt, running[0].WorkerId, null)], Ct)));
        }
        Scalar(path, UndoMigration15);
        Assert.Equal(8L, Scalar(path, "SELECT count(*) FROM jobs WHERE slot = 1 AND state = 'running'"));

        await using var upgraded = await OpenAsync(path);

        var limits = (await upgraded.QueueLimitsListAsync(Ct)).ToDictionary(l => l.Queue);
        Assert.Equal(4L, limits["q"].Running);
        Assert.Equal(4L, limits["k"].Running);
        // The queue without keys counts its total: its marks are gone; the per-key queue keeps them.
        Assert.Equal(0L, Scalar(path, "SELECT count(*) FROM jobs WHERE slot = 1 AND queue = 'q'"));
        Assert.Equal(4L, Scalar(path, "SELECT count(*) FROM jobs WHERE slot = 1 AND queue = 'k'"));
        var more = await ClaimAsync(upgraded, "q", 10);
        Assert.Single(more);
        Assert.Empty(await ClaimAsync(upgraded, "q", 10));
        // The migrated trigger gives a slot back on a failure, the report batch on a success.
        Assert.True(Assert.Single(await upgraded.JobReportManyAsync([new JobFailedReport(more[0].Id, more[0].Attempt, more[0].WorkerId,
            new JobError(JobErrorKinds.Exception, "boom"), JobState.Dead, null)], Ct)));
        Assert.Equal(4L, Assert.Single(await upgraded.QueueLimitsListAsync(Ct), l => l.Queue == "q").Running);
        Assert.Single(await ClaimAsync(upgraded, "q", 10));
    }
}
