using Gantry.Jobs;
using Gantry.Scheduling;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private static ScheduleDefinition Schedule(string name = "nightly", string cron = "0 3 * * *") => new()
    {
        Name = name, Cron = cron, Type = "test", Payload = """{"n":1}""", TimeZone = "Europe/Berlin", Queue = "reports", Priority = 2,
        Missed = MissedFirePolicy.All, MaxCatchup = 4, Timeout = TimeSpan.FromSeconds(90), MaxAttempts = 3,
        Tags = new Dictionary<string, string> { ["team"] = "billing" },
    };

    private Task<ScheduleFireResult> FireAsync(ScheduleDefinition s, DateTimeOffset at, bool cron = true, IJobStore? store = null) =>
        (store ?? Store).ScheduleFireAsync(new ScheduleFireParams(s.Name, at, s.JobFor(at)) { AdvanceCursor = cron }, Ct);

    [Fact]
    public async Task Schedule_CreateGetListUpdateDelete_RoundTrips()
    {
        var s = Schedule();
        Assert.Equal(ScheduleUpsertOutcome.Created, await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct));
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("another", "*/5 * * * * *"), ScheduleOrigins.File), Ct);

        var got = await Store.ScheduleGetAsync("nightly", Ct);
        Assert.NotNull(got);
        Assert.True(got.Definition.SameAs(s));
        Assert.False(got.Paused);
        Assert.Equal(ScheduleOrigins.Manual, got.Origin);
        Assert.Equal(Time.GetUtcNow(), got.FiredThrough);
        Assert.Null(got.LastFireTime);
        Assert.Equal(["another", "nightly"], (await Store.ScheduleListAsync(Ct)).Select(x => x.Definition.Name));
        Assert.Equal(ScheduleOrigins.File, (await Store.ScheduleGetAsync("another", Ct))!.Origin);

        Assert.Equal(ScheduleUpsertOutcome.Unchanged, await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct));
        var changed = s with { Queue = "other", Tags = new Dictionary<string, string>() };
        Assert.Equal(ScheduleUpsertOutcome.Updated, await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(changed), Ct));
        Assert.True((await Store.ScheduleGetAsync("nightly", Ct))!.Definition.SameAs(changed));

        await Store.ScheduleDeleteAsync("nightly", Ct);
        Assert.Null(await Store.ScheduleGetAsync("nightly", Ct));
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => Store.ScheduleDeleteAsync("nightly", Ct));
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => Store.SchedulePauseAsync("nightly", true, Ct));
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => FireAsync(s, Time.GetUtcNow()));
        Assert.Null(await Store.ScheduleGetAsync("nope", Ct));
    }

    [Fact]
    public async Task ScheduleUpsert_ExpressionChanged_CursorMovesToNow_OtherChangeKeepsIt()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        var created = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromHours(1));
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s with { Priority = 5 }), Ct);
        Assert.Equal(created, (await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough);

        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s with { Cron = "0 4 * * *" }), Ct);
        Assert.Equal(Time.GetUtcNow(), (await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough);
    }

    [Fact]
    public async Task ScheduleFire_SameFireTwice_OneJob()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        var at = Time.GetUtcNow().AddMinutes(1);

        var first = await FireAsync(s, at);
        var other = await OpenAnotherAsync();
        var second = await FireAsync(s, at, store: other);

        Assert.True(first.Fired);
        Assert.False(second.Fired);
        Assert.Equal(first.JobId, second.JobId);
        var jobs = await Store.JobListAsync(new JobListParams { Limit = 100 }, Ct);
        var job = Assert.Single(jobs);
        Assert.Equal(first.JobId, job.Id);
        Assert.Equal("nightly", job.Tags[ScheduleDefinition.ScheduleTag]);
        Assert.Equal(ScheduleDefinition.FireTimeText(at), job.Tags[ScheduleDefinition.FireTimeTag]);
        Assert.Equal("billing", job.Tags["team"]);
        Assert.Equal("reports", job.Queue);
        Assert.Equal(2, job.Priority);
        Assert.Equal(3, job.MaxAttempts);
        Assert.Equal(at, (await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough);
        Assert.Equal(at, (await Store.ScheduleGetAsync(s.Name, Ct))!.LastFireTime);
        Assert.Equal(first.JobId, (await Store.ScheduleGetAsync(s.Name, Ct))!.LastJobId);
    }

    [Fact]
    public async Task ScheduleFire_ConcurrentFiresOfOneTime_OneJob()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        var stores = new[] { Store, await OpenAnotherAsync(), await OpenAnotherAsync(), await OpenAnotherAsync() };
        var times = Enumerable.Range(1, 5).Select(i => Time.GetUtcNow().AddSeconds(i)).ToArray();

        var results = await Task.WhenAll(stores.SelectMany(st => times.Select(t => Task.Run(() => FireAsync(s, t, store: st)))));

        Assert.Equal(times.Length, results.Count(r => r.Fired));
        var jobs = await Store.JobListAsync(new JobListParams { Limit = 100 }, Ct);
        Assert.Equal(times.Select(ScheduleDefinition.FireTimeText).Order(), jobs.Select(j => j.Tags[ScheduleDefinition.FireTimeTag]).Order());
    }

    [Fact]
    public async Task ScheduleFire_Paused_CronFiresNothing_TriggerFires()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        await Store.SchedulePauseAsync(s.Name, true, Ct);
        Assert.True((await Store.ScheduleGetAsync(s.Name, Ct))!.Paused);

        Assert.False((await FireAsync(s, Time.GetUtcNow().AddSeconds(1))).Fired);
        var triggered = await FireAsync(s, Time.GetUtcNow().AddSeconds(2), cron: false);

        Assert.True(triggered.Fired);
        Assert.Single(await Store.JobListAsync(new JobListParams(), Ct));
        Assert.Equal(Time.GetUtcNow(), (await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough);
    }

    [Fact]
    public async Task ScheduleResume_AfterPause_CursorSkipsThePause()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        await Store.SchedulePauseAsync(s.Name, true, Ct);
        Time.Advance(TimeSpan.FromDays(2));
        await Store.SchedulePauseAsync(s.Name, false, Ct);

        var resumed = await Store.ScheduleGetAsync(s.Name, Ct);
        Assert.False(resumed!.Paused);
        Assert.Equal(Time.GetUtcNow(), resumed.FiredThrough);
    }

    [Fact]
    public async Task ScheduleCursor_NeverMovesBack()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        var later = Time.GetUtcNow().AddMinutes(10);
        await FireAsync(s, later);
        await FireAsync(s, later.AddMinutes(-5));
        await Store.ScheduleAdvanceAsync(new ScheduleAdvanceParams(s.Name, later.AddMinutes(-1)), Ct);
        Assert.Equal(later, (await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough);

        await Store.ScheduleAdvanceAsync(new ScheduleAdvanceParams(s.Name, later.AddMinutes(1)), Ct);
        Assert.Equal(later.AddMinutes(1), (await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough);
    }

    [Fact]
    public async Task ScheduleDelete_RemovesFires_JobsStay()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        var at = Time.GetUtcNow().AddSeconds(1);
        await FireAsync(s, at);
        await Store.ScheduleDeleteAsync(s.Name, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);

        Assert.Null((await Store.ScheduleGetAsync(s.Name, Ct))!.LastFireTime);
        Assert.Single(await Store.JobListAsync(new JobListParams(), Ct));
    }

    [Fact]
    public async Task JobClean_OldFireRecords_PrunedButTheLatestOfEach()
    {
        var s = Schedule();
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(s), Ct);
        var t0 = Time.GetUtcNow();
        await FireAsync(s, t0.AddSeconds(1));
        await FireAsync(s, t0.AddSeconds(2));
        Time.Advance(TimeSpan.FromDays(8));

        await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7)), Ct);

        Assert.Equal(t0.AddSeconds(2), (await Store.ScheduleGetAsync(s.Name, Ct))!.LastFireTime);
        // The pruned fire stays impossible to make again: the cursor is past it.
        await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7)), Ct);
        Assert.True((await Store.ScheduleGetAsync(s.Name, Ct))!.FiredThrough >= t0.AddSeconds(2));
    }

    [Fact]
    public async Task JobClean_QueueRetention_PerQueueAndState()
    {
        await Store.QueueRetentionSetAsync(new QueueRetention("emails", TimeSpan.FromDays(1), TimeSpan.FromDays(30), null), Ct);
        Assert.Equal([new QueueRetention("emails", TimeSpan.FromDays(1), TimeSpan.FromDays(30), null)], await Store.QueueRetentionListAsync(Ct));
        var emailSucceeded = await RunningAsync(Job(queue: "emails"));
        await SucceedAsync(emailSucceeded);
        var emailDead = await RunningAsync(Job(queue: "emails"));
        await FailAsync(emailDead, JobState.Dead);
        var emailCancelled = await EnqueueAsync(queue: "emails");
        await Store.JobCancelAsync(emailCancelled, Ct);
        var otherSucceeded = await RunningAsync(Job(queue: "other"));
        await SucceedAsync(otherSucceeded);
        var defaultRetention = TimeSpan.FromDays(7);

        Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await Store.JobCleanAsync(new JobCleanParams(defaultRetention), Ct));
        Assert.Null(await Store.JobGetAsync(emailSucceeded.Id, Ct));

        Time.Advance(TimeSpan.FromDays(6));
        Assert.Equal(2, await Store.JobCleanAsync(new JobCleanParams(defaultRetention), Ct));
        Assert.Null(await Store.JobGetAsync(emailCancelled, Ct));
        Assert.Null(await Store.JobGetAsync(otherSucceeded.Id, Ct));
        Assert.NotNull(await Store.JobGetAsync(emailDead.Id, Ct));

        Time.Advance(TimeSpan.FromDays(23));
        Assert.Equal(1, await Store.JobCleanAsync(new JobCleanParams(defaultRetention), Ct));
        Assert.Null(await Store.JobGetAsync(emailDead.Id, Ct));

        await Store.QueueRetentionSetAsync(new QueueRetention("emails", null, null, null), Ct);
        Assert.Empty(await Store.QueueRetentionListAsync(Ct));
    }

    [Fact]
    public async Task QueueRetention_BeyondAHundredYearsOrNegative_RefusedNamingTheState_NothingSet()
    {
        Assert.Equal("dead", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.QueueRetentionSetAsync(new QueueRetention("emails", TimeSpan.FromDays(1), TimeSpan.FromDays(36_501), null), Ct))).Where);
        Assert.Equal("cancelled", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.QueueRetentionSetAsync(new QueueRetention("emails", null, null, TimeSpan.FromSeconds(-1)), Ct))).Where);
        Assert.Empty(await Store.QueueRetentionListAsync(Ct));
        await Store.QueueRetentionSetAsync(new QueueRetention("emails", QueueRetention.LongestKeep, null, null), Ct);
        Assert.Equal([new QueueRetention("emails", QueueRetention.LongestKeep, null, null)], await Store.QueueRetentionListAsync(Ct));
    }

    [Fact]
    public async Task JobClean_IdempotencyKey_KeptAtLeastTheDefaultRetention()
    {
        await Store.QueueRetentionSetAsync(new QueueRetention("emails", TimeSpan.FromHours(1), null, null), Ct);
        var keyed = await RunningAsync(Job(queue: "emails") with { IdempotencyKey = "invoice-1" });
        await SucceedAsync(keyed);
        var plain = await RunningAsync(Job(queue: "emails"));
        await SucceedAsync(plain);

        Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(1)), Ct));
        Assert.NotNull(await Store.JobGetAsync(keyed.Id, Ct));
        var again = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job(queue: "emails") with { IdempotencyKey = "invoice-1" }]), Ct));
        Assert.True(again.Existing);

        Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(1)), Ct));
    }
}
