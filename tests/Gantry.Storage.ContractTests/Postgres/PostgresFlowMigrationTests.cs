using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Storage.Postgres;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>Migration 20 on a live store: the slot counts of migration 17 become the marked running jobs, exactly.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresFlowMigrationTests(PostgresFixture fixture) : PostgresSchemaTests(fixture)
{
    private Task<PostgresJobStore> OpenAsync() =>
        PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = Fixture.ConnectionString, Schema = Schema }, Ct);

    private Task<IReadOnlyList<ClaimedJob>> ClaimAsync(IJobStore store, int limit) =>
        store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand("q", limit)], TimeSpan.FromMinutes(1), [], null), Ct);

    /// <summary>Takes <paramref name="schema"/> back to version 20 (migration 21 can then run again).</summary>
    internal static string UndoMigration21(string schema)
    {
        var s = $"\"{schema}\"";
        return $"""
            DROP TABLE {s}.queue_key_starts;
            ALTER TABLE {s}.queue_limits DROP COLUMN key_rate_count, DROP COLUMN key_rate_window_ms;
            """;
    }

    /// <summary>Takes <paramref name="schema"/> back to the tables of version 19 that migration 20 replaces, and undoes the
    /// later ones (they can then run again).</summary>
    internal static string UndoMigration20(string schema)
    {
        var s = $"\"{schema}\"";
        return $"""
            {UndoMigration21(schema)}
            DROP INDEX {s}.jobs_slots;
            CREATE TABLE {s}.queue_slots (queue text NOT NULL, concurrency_key text NOT NULL, n integer NOT NULL, PRIMARY KEY (queue, concurrency_key));
            CREATE TABLE {s}.queue_slot_deltas (queue text NOT NULL, concurrency_key text NOT NULL, n integer NOT NULL);
            """;
    }

    [Fact]
    public async Task Migration20_OnAStoreWithSlotCounts_CountsExactlyTheMarkedRunningJobs()
    {
        var jobs = Enumerable.Range(0, 12).Select(i => new NewJob { Id = JobIds.New(), Type = "t", Queue = "q", ConcurrencyKey = i % 2 == 0 ? "a" : "b" }).ToArray();
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey!);
        await using (var store = await OpenAsync())
        {
            await store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("q", new QueueLimits { Concurrency = 6, PerKey = 3 }, Ct);
            var running = await ClaimAsync(store, 6);
            Assert.Equal(6, running.Count);
            // One of each key ends: as of version 19 it kept its mark, and its change waited in queue_slot_deltas.
            var ending = new[] { running.First(j => keyOf[j.Id] == "a"), running.First(j => keyOf[j.Id] == "b") };
            Assert.All(await store.JobReportManyAsync(ending.Select(j => (JobReport)new JobSucceededReport(j.Id, j.Attempt, j.WorkerId, null)).ToArray(), Ct),
                Assert.True);
        }
        // The store as it was at version 19: counts per queue and key as of the last claim, the changes since, ended jobs still marked.
        var s = $"\"{Schema}\"";
        await Fixture.Cluster.ExecuteAsync($"""
            {UndoMigration20(Schema)}
            UPDATE {s}.jobs SET slot = true WHERE queue = 'q' AND state = '{JobState.Succeeded.ToText()}';
            INSERT INTO {s}.queue_slots SELECT queue, concurrency_key, count(*) FROM {s}.jobs WHERE slot GROUP BY 1, 2;
            INSERT INTO {s}.queue_slot_deltas SELECT queue, concurrency_key, -1 FROM {s}.jobs WHERE slot AND state <> '{JobState.Running.ToText()}';
            DELETE FROM {s}.gantry_migrations WHERE version >= 20;
            """);

        await using var upgraded = await OpenAsync();

        Assert.Equal(4L, Assert.Single(await upgraded.QueueLimitsListAsync(Ct)).Running);
        Assert.Equal(0L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM {s}.jobs WHERE slot AND state <> '{JobState.Running.ToText()}'"));
        Assert.Equal(0L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM pg_tables WHERE schemaname = '{Schema}' AND tablename LIKE 'queue_slot%'"));
        // Per key: 2 of each key still run under a per-key limit of 3, so one more of each, then the queue's limit of 6 is full.
        var more = await ClaimAsync(upgraded, 10);
        Assert.Equal(["a", "b"], more.Select(j => keyOf[j.Id]).Order().ToArray());
        Assert.Empty(await ClaimAsync(upgraded, 10));
    }
}
