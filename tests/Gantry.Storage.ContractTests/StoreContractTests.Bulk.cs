using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private static NewJob Tagged(string queue, params (string Key, string Value)[] tags) =>
        Job(queue: queue) with { Tags = tags.ToDictionary(t => t.Key, t => t.Value) };

    [Fact]
    public async Task JobList_TagFilters_AllMustMatchNewestFirst()
    {
        var a = await EnqueueAsync(Tagged("default", ("team", "billing"), ("env", "prod")));
        await EnqueueAsync(Tagged("default", ("team", "billing"), ("env", "dev")));
        var c = await EnqueueAsync(Tagged("default", ("team", "billing"), ("env", "prod")));
        await EnqueueAsync(Tagged("default", ("team", "search")));
        await EnqueueAsync();

        var both = await Store.JobListAsync(new JobListParams { Tags = new Dictionary<string, string> { ["team"] = "billing", ["env"] = "prod" } }, Ct);
        Assert.Equal([c, a], both.Select(j => j.Id));
        var billing = await Store.JobListAsync(new JobListParams { Tags = new Dictionary<string, string> { ["team"] = "billing" }, Limit = 2 }, Ct);
        Assert.Equal(2, billing.Count);
        var next = await Store.JobListAsync(new JobListParams { Tags = new Dictionary<string, string> { ["team"] = "billing" }, Before = billing[^1].Id }, Ct);
        Assert.Equal([a], next.Select(j => j.Id));
        Assert.Empty(await Store.JobListAsync(new JobListParams { Tags = new Dictionary<string, string> { ["team"] = "nobody" } }, Ct));
    }

    [Fact]
    public async Task JobList_AndBulkCancel_ByConcurrencyKey_OnlyThatKeysJobs()
    {
        var acme = new List<Guid>();
        foreach (var (queue, key) in new[] { ("default", "acme"), ("default", "beta"), ("other", "acme"), ("default", (string?)null), ("default", "acme") })
        {
            var id = await EnqueueAsync(Job(queue: queue) with { ConcurrencyKey = key });
            if (key == "acme") acme.Add(id);
        }
        acme.Reverse(); // newest first

        Assert.Equal(acme, (await Store.JobListAsync(new JobListParams { ConcurrencyKey = "acme" }, Ct)).Select(j => j.Id));
        Assert.Equal([acme[0], acme[2]], (await Store.JobListAsync(new JobListParams { ConcurrencyKey = "acme", Queue = "default", State = JobState.Queued }, Ct)).Select(j => j.Id));
        var page = await Store.JobListAsync(new JobListParams { ConcurrencyKey = "acme", Limit = 1 }, Ct);
        Assert.Equal([acme[1]], (await Store.JobListAsync(new JobListParams { ConcurrencyKey = "acme", Limit = 1, Before = page[0].Id }, Ct)).Select(j => j.Id));
        Assert.Equal([acme[2]], (await Store.JobListAsync(new JobListParams { ConcurrencyKey = "acme", Search = acme[2].ToString() }, Ct)).Select(j => j.Id));
        Assert.Empty(await Store.JobListAsync(new JobListParams { ConcurrencyKey = "nobody" }, Ct));

        var filter = new JobFilter { ConcurrencyKey = "acme", Queue = "default" };
        Assert.Equal("queue=default concurrency_key=acme", filter.Describe());
        Assert.Equal(2, (await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, filter, DryRun: true), Ct)).Matched);
        Assert.Equal(2, (await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, filter), Ct)).Touched);
        Assert.Equal([JobState.Cancelled, JobState.Queued, JobState.Cancelled], await Task.WhenAll(acme.Select(async id => (await GetAsync(id)).State)));
        Assert.Equal("concurrency_key", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, new JobFilter { ConcurrencyKey = "" }), Ct))).Field);
        await AssertCountsExactAsync();
    }

    [Fact]
    public async Task JobList_Search_IdKeyOrTypePrefix()
    {
        var mail = await EnqueueAsync(Job(type: "mail.send"));
        var mail2 = await EnqueueAsync(Job(type: "mail.bounce"));
        var keyed = await EnqueueAsync(Job(type: "report") with { IdempotencyKey = "order-42" });
        await EnqueueAsync(Job(type: "email"));

        async Task<Guid[]> Search(string text) =>
            (await Store.JobListAsync(new JobListParams { Search = text }, Ct)).Select(j => j.Id).ToArray();

        Assert.Equal([mail2, mail], await Search("mail"));
        Assert.Equal([mail], await Search("mail.send"));
        Assert.Equal([keyed], await Search("order-42"));
        Assert.Equal([keyed], await Search(keyed.ToString()));
        Assert.Empty(await Search("order"));
        Assert.Empty(await Search("Mail"));
    }

    [Fact]
    public async Task JobList_SearchWithFiltersAndCursor_NewestFirstAcrossTypesAndQueues()
    {
        // A prefix over three types, interleaved in time; a key held in two queues; a type that only starts like it.
        var jobs = new List<Guid>();
        for (var i = 0; i < 9; i++)
            jobs.Add(await EnqueueAsync(Job(type: $"mail.{"abc"[i % 3]}", queue: i % 2 == 0 ? "even" : "odd")));
        await EnqueueAsync(Job(type: "mailer"));
        var keyA = await EnqueueAsync(Job(type: "x", queue: "even") with { IdempotencyKey = "mail.k" });
        var keyB = await EnqueueAsync(Job(type: "y", queue: "odd") with { IdempotencyKey = "mail.k" });

        async Task<Guid[]> Page(JobListParams p) => (await Store.JobListAsync(p, Ct)).Select(j => j.Id).ToArray();
        var newestFirst = jobs.AsEnumerable().Reverse().ToArray();
        // Page by page, newest first, whatever type each job has.
        var first = await Page(new JobListParams { Search = "mail.", Limit = 4 });
        Assert.Equal(newestFirst[..4], first);
        var second = await Page(new JobListParams { Search = "mail.", Limit = 4, Before = first[^1] });
        Assert.Equal(newestFirst[4..8], second);
        Assert.Equal(newestFirst[8..], await Page(new JobListParams { Search = "mail.", Limit = 4, Before = second[^1] }));
        // Filters apply before the page is cut.
        Assert.Equal(newestFirst.Where((_, i) => (8 - i) % 2 == 1).ToArray(), await Page(new JobListParams { Search = "mail.", Queue = "odd" }));
        Assert.Equal([jobs[7], jobs[1]], await Page(new JobListParams { Search = "mail", Queue = "odd", Type = "mail.b" }));
        Assert.Equal([keyB, keyA], await Page(new JobListParams { Search = "mail.k" }));
        Assert.Equal([keyA], await Page(new JobListParams { Search = "mail.k", Queue = "even" }));
        Assert.Equal(10, (await Page(new JobListParams { Search = "mail" })).Length); // the nine and mailer; "mail" is no key
        Assert.Empty(await Page(new JobListParams { Search = "mail.", State = JobState.Dead }));
    }

    [Fact]
    public async Task JobList_SearchByPrefixOfManyTypes_StillNewestFirst()
    {
        var jobs = new List<Guid>();
        for (var i = 0; i < JobSearch.MaxPrefixTypes + 3; i++)
            jobs.Add(await EnqueueAsync(Job(type: $"t{i:00}")));
        var page = (await Store.JobListAsync(new JobListParams { Search = "t", Limit = 5 }, Ct)).Select(j => j.Id).ToArray();
        Assert.Equal(jobs.AsEnumerable().Reverse().Take(5), page);
        var next = (await Store.JobListAsync(new JobListParams { Search = "t", Limit = 5, Before = page[^1] }, Ct)).Select(j => j.Id).ToArray();
        Assert.Equal(jobs.AsEnumerable().Reverse().Skip(5).Take(5), next);
    }

    [Fact]
    public async Task JobBulkRetry_DryRunCountsThenRetriesOldestFirstInRounds()
    {
        var dead = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var job = await RunningAsync(Job(type: "mail", queue: "emails") with { MaxAttempts = 1 });
            Assert.True(await FailAsync(job, JobState.Dead));
            dead.Add(job.Id);
        }
        var other = await RunningAsync(Job(type: "sms", queue: "emails"));
        Assert.True(await FailAsync(other, JobState.Dead));
        var filter = new JobFilter { State = JobState.Dead, Queue = "emails", Type = "mail" };

        var preview = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, DryRun: true), Ct);
        Assert.Equal(new JobBulkResult(JobBulkAction.Retry, true, 5, 0, 5), preview);
        Assert.Equal(JobState.Dead, (await GetAsync(dead[0])).State);

        var first = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, Max: 3), Ct);
        Assert.Equal(new JobBulkResult(JobBulkAction.Retry, false, 5, 3, 2, dead[2]), first);
        Assert.Equal([JobState.Queued, JobState.Queued, JobState.Queued, JobState.Dead, JobState.Dead],
            await Task.WhenAll(dead.Select(async id => (await GetAsync(id)).State)));
        var second = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, Max: 3), Ct);
        Assert.Equal(new JobBulkResult(JobBulkAction.Retry, false, 2, 2, 0, dead[4]), second);
        Assert.Equal(JobState.Dead, (await GetAsync(other.Id)).State);
        await AssertCountsExactAsync();
    }

    [Fact]
    public async Task JobBulkRetry_WithTheCursor_AJobThatDiesAgainIsNotRetriedTwice()
    {
        var dead = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var job = await RunningAsync(Job(type: "flaky", queue: "again") with { MaxAttempts = 1 });
            Assert.True(await FailAsync(job, JobState.Dead));
            dead.Add(job.Id);
        }
        var filter = new JobFilter { State = JobState.Dead, Queue = "again" };

        var first = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, Max: 2), Ct);
        Assert.Equal(new JobBulkResult(JobBulkAction.Retry, false, 3, 2, 1, dead[1]), first);
        // Both retried jobs run and die again before the next call: they match the filter again, but lie behind the cursor.
        foreach (var job in await ClaimAsync(limit: 10, queue: "again")) Assert.True(await FailAsync(job, JobState.Dead));
        Assert.Equal(3, (await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, DryRun: true), Ct)).Matched);

        var second = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, Max: 2, Cursor: first.Cursor), Ct);
        Assert.Equal(new JobBulkResult(JobBulkAction.Retry, false, 1, 1, 0, dead[2]), second);
        Assert.Equal([JobState.Dead, JobState.Dead, JobState.Queued], await Task.WhenAll(dead.Select(async id => (await GetAsync(id)).State)));
        // Nothing after the last job: the run is over, the cursor stays.
        var third = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, Cursor: second.Cursor), Ct);
        Assert.Equal(new JobBulkResult(JobBulkAction.Retry, false, 0, 0, 0, dead[2]), third);
        // A dry run after a cursor counts only what lies after it.
        Assert.Equal(0, (await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, DryRun: true, Cursor: dead[2]), Ct)).Matched);
        Assert.Equal(1, (await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, filter, DryRun: true, Cursor: dead[0]), Ct)).Matched); // dead[1]
    }

    [Fact]
    public async Task JobBulkCancel_ByTag_RunningAskedOnceQueuedEnded()
    {
        var queued = await EnqueueAsync(Tagged("bulk", ("batch", "7")));
        var running = await RunningAsync(Tagged("bulk2", ("batch", "7")));
        await EnqueueAsync(Tagged("bulk", ("batch", "8")));
        var filter = new JobFilter { Tags = new Dictionary<string, string> { ["batch"] = "7" } };

        var result = await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, filter), Ct);

        Assert.Equal(new JobBulkResult(JobBulkAction.Cancel, false, 2, 2, 0, running.Id), result);
        Assert.Equal(JobState.Cancelled, (await GetAsync(queued)).State);
        Assert.NotNull((await GetAsync(running.Id)).CancelRequestedAt);
        // A running job already asked to stop is not asked again.
        Assert.Equal(0, (await Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, filter, DryRun: true), Ct)).Matched);
    }

    [Fact]
    public async Task JobBulk_BadInput_RefusedNamingTheField()
    {
        Assert.Equal("state", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Retry, new JobFilter { State = JobState.Queued }), Ct))).Where);
        Assert.Equal("state", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, new JobFilter { State = JobState.Dead }), Ct))).Where);
        Assert.Equal("state", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, new JobFilter()), Ct))).Where);
        Assert.Equal("max", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.JobBulkAsync(new JobBulkParams(JobBulkAction.Cancel, new JobFilter { Queue = "q" }, Max: 10_001), Ct))).Where);
    }

    [Fact]
    public async Task Audit_AppendedEntries_ListedNewestFirstFilteredPagedAndPruned()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var entry = new AuditEntry(JobIds.New(Time), Time.GetUtcNow(), i % 2 == 0 ? "admin-0" : "loopback", i == 3 ? "jobs.bulk_retry" : "jobs.cancel",
                $"job {i}", i == 3 ? 344 : null, i == 3 ? "dry run" : null);
            await Store.AuditAppendAsync(entry, Ct);
            ids.Add(entry.Id);
            Time.Advance(TimeSpan.FromSeconds(1));
        }
        var all = await Store.AuditListAsync(new AuditListParams(), Ct);
        Assert.Equal(Enumerable.Reverse(ids), all.Select(e => e.Id));
        var bulk = all[0];
        Assert.Equal(("loopback", "jobs.bulk_retry", "job 3", 344L, "dry run"), (bulk.Actor, bulk.Action, bulk.Target, bulk.Count!.Value, bulk.Detail));
        Assert.True((bulk.At - Time.GetUtcNow()).Duration() < TimeSpan.FromSeconds(2));
        Assert.Equal([ids[2], ids[0]], (await Store.AuditListAsync(new AuditListParams { Actor = "admin-0" }, Ct)).Select(e => e.Id));
        Assert.Equal([ids[3]], (await Store.AuditListAsync(new AuditListParams { Action = "jobs.bulk_retry" }, Ct)).Select(e => e.Id));
        Assert.Equal([ids[1], ids[0]], (await Store.AuditListAsync(new AuditListParams { Before = ids[2] }, Ct)).Select(e => e.Id));

        Time.Advance(Audit.Retention + TimeSpan.FromSeconds(2));
        var recent = new AuditEntry(JobIds.New(Time), Time.GetUtcNow(), "admin-0", "queues.pause", "queue emails");
        await Store.AuditAppendAsync(recent, Ct);
        await Store.JobCleanAsync(new JobCleanParams(TimeSpan.FromDays(7)), Ct);
        Assert.Equal([recent.Id], (await Store.AuditListAsync(new AuditListParams(), Ct)).Select(e => e.Id));
    }
}
