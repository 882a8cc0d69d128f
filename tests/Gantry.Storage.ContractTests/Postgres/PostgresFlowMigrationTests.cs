using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Storage.Postgres;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>Flow-control migrations on a live store: the slot counts of migration 17 become the marked running jobs (20), the
/// marked running jobs of a queue limited without keys its running total (22), exactly; and concurrency keys compare byte
/// by byte (23) with the walk going on where it stopped; the ready rows of jobs without a key in per-key queues are keyed ''
/// (24), and the upkeep keys those a transaction concurrent with a per-key setting left unkeyed.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresFlowMigrationTests(PostgresFixture fixture) : PostgresSchemaTests(fixture)
{
    private Task<PostgresJobStore> OpenAsync() =>
        PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = Fixture.ConnectionString, Schema = Schema }, Ct);

    private Task<IReadOnlyList<ClaimedJob>> ClaimAsync(IJobStore store, int limit) =>
        store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand("q", limit)], TimeSpan.FromMinutes(1), [], null), Ct);

    /// <summary>Takes <paramref name="schema"/> back to version 21 (migration 22 can then run again): the jobs counted in a
    /// running total are marked `slot` instead, as version 21 kept them.</summary>
    internal static string UndoMigration22(string schema)
    {
        var s = $"\"{schema}\"";
        return $"""
            UPDATE {s}.jobs AS j SET slot = true FROM {s}.queue_limits AS l
              WHERE j.queue = l.queue AND j.held_epoch = l.epoch AND j.state = '{JobState.Running.ToText()}';
            DROP TRIGGER jobs_held_freed ON {s}.jobs;
            DROP TRIGGER jobs_held_deleted ON {s}.jobs;
            DROP FUNCTION {s}.gantry_held_freed();
            DROP TABLE {s}.queue_held_deltas;
            ALTER TABLE {s}.jobs DROP COLUMN held_epoch;
            ALTER TABLE {s}.queue_limits DROP COLUMN epoch, DROP COLUMN held;
            DROP SEQUENCE {s}.queue_limit_epochs;
            """;
    }

    /// <summary>Takes <paramref name="schema"/> back to version 20 (migration 21 can then run again), undoing the later ones.</summary>
    internal static string UndoMigration21(string schema)
    {
        var s = $"\"{schema}\"";
        return $"""
            {UndoMigration22(schema)}
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

    [Fact]
    public async Task Migration23_OnAStoreMidWalk_KeysCompareByteByByte_AndTheWalkGoesOnFromItsCursor()
    {
        var s = $"\"{Schema}\"";
        var jobs = new[] { "B", "a", "b", "é", "B", "a", "b", "é" }.Select(k => new NewJob { Id = JobIds.New(), Type = "t", Queue = "q", ConcurrencyKey = k }).ToArray();
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey!);
        string first;
        await using (var store = await OpenAsync())
        {
            await store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("q", new QueueLimits { PerKey = 1 }, Ct);
            first = keyOf[Assert.Single(await ClaimAsync(store, 1)).Id];
        }
        // The store as it was at version 22: the keys and the cursor in the database's collation.
        await Fixture.Cluster.ExecuteAsync($"""
            ALTER TABLE {s}.jobs ALTER COLUMN concurrency_key TYPE text COLLATE "default";
            ALTER TABLE {s}.job_ready ALTER COLUMN concurrency_key TYPE text COLLATE "default";
            ALTER TABLE {s}.queue_key_starts ALTER COLUMN concurrency_key TYPE text COLLATE "default";
            ALTER TABLE {s}.queue_limits ALTER COLUMN cursor_key TYPE text COLLATE "default";
            DELETE FROM {s}.gantry_migrations WHERE version >= 23;
            """);

        await using var upgraded = await OpenAsync();

        Assert.Equal(4L, await Fixture.Cluster.ScalarAsync<long>($"""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = '{Schema}' AND column_name IN ('concurrency_key', 'cursor_key') AND collation_name = 'C'
            """));
        Assert.Equal(1L, Assert.Single(await upgraded.QueueLimitsListAsync(Ct)).Running);
        // The first key still runs its job; the walk goes on over the other three, one job each, then every key is full.
        Assert.Equal(new[] { "B", "a", "b", "é" }.Where(k => k != first).Order(StringComparer.Ordinal),
            (await ClaimAsync(upgraded, 10)).Select(j => keyOf[j.Id]).Order(StringComparer.Ordinal));
        Assert.Empty(await ClaimAsync(upgraded, 10));
    }

    /// <summary>A per-key queue "q" with 1,500 jobs of one key ahead of a job without a key (a lower priority): its id.</summary>
    private async Task<Guid> UnkeyedBehindABacklogAsync(IJobStore store)
    {
        var unkeyed = new NewJob { Id = JobIds.New(), Type = "t", Queue = "q" };
        await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 1500)
            .Select(_ => new NewJob { Id = JobIds.New(), Type = "t", Queue = "q", ConcurrencyKey = "big", Priority = 5 }).Append(unkeyed).ToArray()), Ct);
        await store.QueueLimitsSetAsync("q", new QueueLimits { PerKey = 1 }, Ct);
        return unkeyed.Id;
    }

    [Fact]
    public async Task Migration24_OnAStoreWithAPerKeyQueue_KeysItsReadyRowsWithoutAKey_TheClaimFindsThemBehindTheBacklog()
    {
        var s = $"\"{Schema}\"";
        Guid unkeyed;
        await using (var store = await OpenAsync())
            unkeyed = await UnkeyedBehindABacklogAsync(store);
        // The store as it was at version 23: ready rows without a key carry none.
        await Fixture.Cluster.ExecuteAsync($"""
            UPDATE {s}.job_ready SET concurrency_key = NULL WHERE concurrency_key = '';
            DELETE FROM {s}.gantry_migrations WHERE version >= 24;
            """);

        await using var upgraded = await OpenAsync();

        Assert.Equal(1L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM {s}.job_ready WHERE concurrency_key = ''"));
        Assert.Contains(unkeyed, (await ClaimAsync(upgraded, 10)).Select(c => c.Id));
    }

    [Fact]
    public async Task Upkeep_KeysAReadyRowLeftWithoutAKeyInAPerKeyQueue_TheClaimThenFindsIt()
    {
        // As a transaction concurrent with the setting leaves it: its trigger read the limits from before the setting.
        var s = $"\"{Schema}\"";
        await using var store = await OpenAsync();
        var unkeyed = await UnkeyedBehindABacklogAsync(store);
        await Fixture.Cluster.ExecuteAsync($"UPDATE {s}.job_ready SET concurrency_key = NULL WHERE concurrency_key = ''");
        Assert.DoesNotContain(unkeyed, (await ClaimAsync(store, 10)).Select(c => c.Id));

        await store.UpkeepAsync(Ct);

        Assert.Equal(unkeyed, Assert.Single(await ClaimAsync(store, 10)).Id);
    }

    [Fact]
    public async Task PerKeySetAndClearedWhileJobsWithoutAKeyComeIn_AfterTheUpkeepEveryOneIsKeyed_AndAllAreClaimed()
    {
        // Enqueues race the settings: a transaction whose trigger read the limits before a setting committed leaves its
        // rows unkeyed; the setting keys only the rows it sees. The upkeep's pass keys the rest.
        var s = $"\"{Schema}\"";
        await using var store = await OpenAsync();
        await using var other = await OpenAsync();
        await store.JobEnqueueManyAsync(new JobEnqueueParams([new NewJob { Id = JobIds.New(), Type = "t", Queue = "q", ConcurrencyKey = "a" }]), Ct);
        const int Batches = 150, PerBatch = 4;
        var enqueues = Task.Run(async () =>
        {
            for (var i = 0; i < Batches; i++)
                await other.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, PerBatch).Select(_ => new NewJob { Id = JobIds.New(), Type = "t", Queue = "q" }).ToArray()), Ct);
        });
        // Set and cleared in turn while the enqueues run, ending set (an odd number of settings).
        var settings = 0;
        while (!enqueues.IsCompleted || settings % 2 == 0)
        {
            if (settings++ % 2 == 0) await ((IJobStore)store).QueueLimitsSetAsync("q", new QueueLimits { PerKey = 1000 }, Ct);
            else await ((IJobStore)store).QueueLimitsClearAsync("q", Ct);
        }
        await enqueues;
        Assert.True(settings > 2, "the settings did not overlap the enqueues");

        await store.UpkeepAsync(Ct);

        Assert.Equal(0L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM {s}.job_ready WHERE concurrency_key IS NULL"));
        var claimed = 0;
        for (var got = -1; got != 0; claimed += got)
            got = (await store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand("q", 500)], TimeSpan.FromMinutes(1), [], null), Ct)).Count;
        Assert.Equal(Batches * PerBatch + 1, claimed);
    }

    [Fact]
    public async Task Migration22_OnAStoreWithMarkedJobs_TotalsExactlyTheRunningJobsOfQueuesLimitedWithoutKeys()
    {
        var s = $"\"{Schema}\"";
        await using (var store = await OpenAsync())
        {
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 12).Select(_ => new NewJob { Id = JobIds.New(), Type = "t", Queue = "q" }).ToArray()), Ct);
            await store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 6).Select(i => new NewJob { Id = JobIds.New(), Type = "t", Queue = "k", ConcurrencyKey = $"k{i % 2}" }).ToArray()), Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("q", new QueueLimits { Concurrency = 5 }, Ct);
            await ((IJobStore)store).QueueLimitsSetAsync("k", new QueueLimits { PerKey = 2 }, Ct);
            var running = await ClaimAsync(store, 10);
            Assert.Equal(5, running.Count);
            Assert.Equal(4, (await store.JobClaimAsync(new JobClaimParams("w1", [new QueueDemand("k", 10)], TimeSpan.FromMinutes(1), [], null), Ct)).Count);
            Assert.True(Assert.Single(await store.JobReportManyAsync([new JobSucceededReport(running[0].Id, running[0].Attempt, running[0].WorkerId, null)], Ct)));
        }
        // The store as it was at version 21: every running job of a limited queue marked.
        await Fixture.Cluster.ExecuteAsync($"""
            {UndoMigration22(Schema)}
            DELETE FROM {s}.gantry_migrations WHERE version >= 22;
            """);
        Assert.Equal(8L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM {s}.jobs WHERE slot"));

        await using var upgraded = await OpenAsync();

        var limits = (await upgraded.QueueLimitsListAsync(Ct)).ToDictionary(l => l.Queue);
        Assert.Equal(4L, limits["q"].Running);
        Assert.Equal(4L, limits["k"].Running);
        // The queue without keys counts its total: its marks are gone; the per-key queue keeps them.
        Assert.Equal(0L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM {s}.jobs WHERE slot AND queue = 'q'"));
        Assert.Equal(4L, await Fixture.Cluster.ScalarAsync<long>($"SELECT count(*) FROM {s}.jobs WHERE slot AND queue = 'k'"));
        Assert.Single(await ClaimAsync(upgraded, 10));
        Assert.Empty(await ClaimAsync(upgraded, 10));
    }
}
