using Gantry.Flow;
using Gantry.Jobs;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private async Task EnqueueManyAsync(int n, string queue = "default", string? key = null)
    {
        for (var done = 0; done < n; done += 1000)
            await Store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, Math.Min(1000, n - done))
                .Select(_ => Job(queue: queue) with { ConcurrencyKey = key }).ToArray()), Ct);
    }

    private Task LimitAsync(QueueLimits limits, string queue = "default") => Store.QueueLimitsSetAsync(queue, limits, Ct);

    [Fact]
    public async Task QueueLimits_Concurrency_ClaimsNoMoreThanTheLimit()
    {
        await EnqueueManyAsync(5);
        await LimitAsync(new QueueLimits { Concurrency = 2 });

        var first = await ClaimAsync(limit: 10);
        Assert.Equal(2, first.Count);
        Assert.Empty(await ClaimAsync(limit: 10));

        await SucceedAsync(first[0]);
        Assert.Single(await ClaimAsync(limit: 10));
        var status = Assert.Single(await Store.QueueLimitsListAsync(Ct));
        Assert.Equal(("default", 2, 2L), (status.Queue, status.Limits.Concurrency, status.Running));
    }

    [Fact]
    public async Task QueueLimits_LargeLimit_OneClaimTakesAtMostHalf_HeldBackUntilTheLimit()
    {
        // A prefetching worker asks for more than the limit: it gets half (then the rest), so that one half can run and
        // be reported while the next claim takes the other; a limit up to WholeClaim is claimed whole.
        await EnqueueManyAsync(700);
        await LimitAsync(new QueueLimits { Concurrency = 600 });
        Assert.Equal(300, QueueLimits.ClaimCeiling(600));
        Assert.Equal(QueueLimits.WholeClaim, QueueLimits.ClaimCeiling(200));
        Assert.Equal(5, QueueLimits.ClaimCeiling(5));

        var first = await ClaimAsync(limit: 1000);
        Assert.Equal(300, first.Count);
        Assert.Equal(["default"], ClaimedJobs.HeldBackOf(first));
        Assert.Equal(300, (await ClaimAsync(limit: 1000)).Count);
        var full = await ClaimAsync(limit: 1000);
        Assert.Empty(full);
        Assert.Equal(["default"], ClaimedJobs.HeldBackOf(full));
        await SucceedAsync(first[0]);
        Assert.Single(await ClaimAsync(limit: 1000));
        Assert.Equal(600L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);

        // Without a concurrency limit nothing caps a claim: a per-key queue's claim takes all it may.
        for (var k = 0; k < 300; k++) await EnqueueManyAsync(1, queue: "keyed", key: $"k{k}");
        await LimitAsync(new QueueLimits { PerKey = 1 }, queue: "keyed");
        Assert.Equal(300, (await ClaimAsync(limit: 1000, queue: "keyed")).Count);
    }

    [Fact]
    public async Task QueueLimits_SlotGivenBack_OnFailureCancelAndRescue_CountedUntilRescued()
    {
        await EnqueueManyAsync(3);
        await LimitAsync(new QueueLimits { Concurrency = 1 });

        // A failure that is retried gives its slot back.
        var a = await ClaimOneAsync();
        Assert.True(await FailAsync(a, JobState.Queued));
        var b = await ClaimOneAsync();
        // A running job cancelled (its worker reports the cancel) gives it back.
        await Store.JobCancelAsync(b.Id, Ct);
        Assert.True(await ReportAsync(new JobCancelledReport(b.Id, b.Attempt, b.WorkerId)));
        var c = await ClaimOneAsync();

        // A lost worker's job keeps its slot while its lease runs and after it expires, until the rescuer takes it back.
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Empty(await ClaimAsync(worker: "w2"));
        Assert.Single(await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct));
        Assert.Equal(JobState.Queued, (await GetAsync(c.Id)).State);
        Assert.Single(await ClaimAsync(worker: "w2"));
        Assert.Empty(await ClaimAsync(worker: "w2"));
    }

    [Fact]
    public async Task QueueLimits_Lowered_NoStartUntilUnder_Raised_TakesEffectAtOnce()
    {
        await EnqueueManyAsync(10);
        await LimitAsync(new QueueLimits { Concurrency = 3 });
        var running = (await ClaimAsync(limit: 10)).ToList();
        Assert.Equal(3, running.Count);

        await LimitAsync(new QueueLimits { Concurrency = 1 });
        await SucceedAsync(running[0]);
        Assert.Empty(await ClaimAsync());
        await SucceedAsync(running[1]);
        Assert.Empty(await ClaimAsync());
        await SucceedAsync(running[2]);
        Assert.Single(await ClaimAsync());

        await LimitAsync(new QueueLimits { Concurrency = 4 });
        Assert.Equal(3, (await ClaimAsync(limit: 10)).Count);
    }

    [Fact]
    public async Task QueueLimits_ConcurrentClaimersOnSeveralInstances_NeverExceedTheLimit()
    {
        await EnqueueManyAsync(200);
        await LimitAsync(new QueueLimits { Concurrency = 7 });
        var stores = new[] { Store, await OpenAnotherAsync(), await OpenAnotherAsync() };
        // Every instance has read the limits (an instance that has not claims nothing from a limited queue).
        await Task.Delay(LimitedQueues.RefreshEvery + TimeSpan.FromMilliseconds(100), Ct);

        var claims = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            var mine = new List<ClaimedJob>();
            for (var round = 0; round < 5; round++) mine.AddRange(await ClaimAsync(worker: $"w{i}", limit: 3, store: stores[i % stores.Length]));
            return mine;
        })));
        Assert.Equal(7, claims.Sum(c => c.Count));
    }

    [Fact]
    public async Task QueueLimits_PerKey_AtMostNOfOneKeyRun()
    {
        await EnqueueManyAsync(5, key: "tenant-a");
        await EnqueueManyAsync(5, key: "tenant-b");
        await EnqueueManyAsync(3);
        await LimitAsync(new QueueLimits { PerKey = 2 });

        var claimed = await ClaimAsync(limit: 20);
        var records = await Task.WhenAll(claimed.Select(c => GetAsync(c.Id)));
        Assert.Equal(6, claimed.Count); // two of each key, and two of the jobs without a key (one key together)
        Assert.Empty(await ClaimAsync(limit: 20));
        await SucceedAsync(claimed[0]);
        Assert.Single(await ClaimAsync(limit: 20));
    }

    [Fact]
    public async Task QueueLimits_PerKey_ListCountsTheKeysItHoldsBack()
    {
        await EnqueueManyAsync(3, key: "a");
        await EnqueueManyAsync(1, key: "b");
        await EnqueueManyAsync(2);
        await LimitAsync(new QueueLimits { PerKey = 1 });
        Assert.Equal(0L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).KeysAtLimit);

        var claimed = await ClaimAsync(limit: 10);

        // One of each key runs; "a" and the jobs without a key (one key) have more waiting, "b" has none.
        Assert.Equal(3, claimed.Count);
        Assert.Equal(2L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).KeysAtLimit);
        foreach (var job in claimed) Assert.True(await SucceedAsync(job));
        Assert.Equal(0L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).KeysAtLimit);
        await LimitAsync(new QueueLimits { Concurrency = 1 });
        await ClaimAsync(limit: 10);
        Assert.Equal(0L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).KeysAtLimit); // no per-key limit
    }

    [Fact]
    public async Task QueueKeys_EachKeysQueuedAndRunningJobs_InByteOrder_PageByPage_AndWhichTheLimitHoldsBack()
    {
        await EnqueueManyAsync(3, key: "a");
        await EnqueueManyAsync(1, key: "b");
        await EnqueueManyAsync(2, key: "c");
        await EnqueueManyAsync(1, key: "\u00e9"); // é: after every ASCII key in UTF-8 byte order
        await EnqueueManyAsync(2);
        await EnqueueManyAsync(2, queue: "other", key: "a");
        await Assert.ThrowsAsync<QueueNotPerKeyException>(() => Store.QueueKeysListAsync(new QueueKeysQuery("default"), Ct));
        await Assert.ThrowsAsync<QueueNotFoundException>(() => Store.QueueKeysListAsync(new QueueKeysQuery("nowhere"), Ct));
        Assert.Equal("limit", (await Assert.ThrowsAsync<InvalidInputException>(() => Store.QueueKeysListAsync(new QueueKeysQuery("default") { Limit = 0 }, Ct))).Field);
        Assert.Equal("after", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            Store.QueueKeysListAsync(new QueueKeysQuery("default") { After = new string('k', 256) }, Ct))).Field);
        await LimitAsync(new QueueLimits { PerKey = 1 });

        var page = await Store.QueueKeysListAsync(new QueueKeysQuery("default"), Ct);
        Assert.Equal(1, page.Limits.PerKey);
        Assert.Equal([new(null, 2, 0, false), new("a", 3, 0, false), new("b", 1, 0, false), new("c", 2, 0, false), new("\u00e9", 1, 0, false)], page.Keys);
        Assert.Null(page.NextAfter);

        // One job of each key runs (the jobs without a key are one key): the keys with more waiting are at the limit.
        var claimed = await ClaimAsync(limit: 10);
        Assert.Equal(5, claimed.Count);
        QueueKeyStatus[] all = [new(null, 1, 1, true), new("a", 2, 1, true), new("b", 0, 1, false), new("c", 1, 1, true), new("\u00e9", 0, 1, false)];
        Assert.Equal(all, (await Store.QueueKeysListAsync(new QueueKeysQuery("default"), Ct)).Keys);
        Assert.Equal(3L, Assert.Single(await Store.QueueLimitsListAsync(Ct), l => l.Queue == "default").KeysAtLimit);

        // Page by page, each page's NextAfter asks for the next ("" is just after the jobs without a key).
        Assert.Equal(all, await AllPagesAsync(new QueueKeysQuery("default") { Limit = 2 }, [2, 2, 1]));
        Assert.Equal(all.Where(k => k.AtLimit), await AllPagesAsync(new QueueKeysQuery("default") { Limit = 1, AtLimitOnly = true }, [1, 1, 1, 0]));
        Assert.Equal(all[1..], (await Store.QueueKeysListAsync(new QueueKeysQuery("default") { After = "" }, Ct)).Keys);

        // A key with nothing queued or running is gone.
        foreach (var job in claimed)
            if ((await GetAsync(job.Id)).ConcurrencyKey == "b") Assert.True(await SucceedAsync(job));
        Assert.DoesNotContain((await Store.QueueKeysListAsync(new QueueKeysQuery("default"), Ct)).Keys, k => k.Key == "b");

        async Task<List<QueueKeyStatus>> AllPagesAsync(QueueKeysQuery query, int[] sizes)
        {
            var keys = new List<QueueKeyStatus>();
            foreach (var size in sizes)
            {
                var p = await Store.QueueKeysListAsync(query, Ct);
                Assert.Equal(size, p.Keys.Count);
                keys.AddRange(p.Keys);
                if (p.NextAfter is null) break;
                query = query with { After = p.NextAfter };
            }
            return keys;
        }
    }

    [Fact]
    public async Task QueueKeys_UnderARatePerKey_CountEachKeysStartsInTheWindow()
    {
        await EnqueueManyAsync(3, key: "a");
        await EnqueueManyAsync(1, key: "b");
        await LimitAsync(new QueueLimits { RatePerKey = new QueueRate(2, TimeSpan.FromHours(1)) });
        Assert.Equal(3, (await ClaimAsync(limit: 10)).Count);

        var page = await Store.QueueKeysListAsync(new QueueKeysQuery("default"), Ct);
        Assert.Equal([new("a", 1, 2, false) { StartedInWindow = 2 }, new("b", 0, 1, false) { StartedInWindow = 1 }], page.Keys);
        Assert.Empty((await Store.QueueKeysListAsync(new QueueKeysQuery("default") { AtLimitOnly = true }, Ct)).Keys); // no per-key limit to fill
    }

    [Fact]
    public async Task QueueLimits_Fairness_SmallKeyStartsWithinOneClaimBehindABigKeysBacklog()
    {
        // The bound: a job of a key running r jobs goes before every job that would be another key's (r+2)th, so a
        // key with nothing running is served by the next claim, however many jobs other keys have queued.
        await EnqueueManyAsync(10_000, key: "big");
        await LimitAsync(new QueueLimits { PerKey = 100_000 });
        for (var i = 0; i < 5; i++) await ClaimOneAsync();

        var small = Job() with { ConcurrencyKey = "small" };
        await EnqueueAsync(small);
        Assert.Equal(small.Id, (await ClaimOneAsync()).Id);

        // Keys with equal turns go oldest first: two more small jobs alternate with the big key once it is level.
        var smalls = new[] { Job() with { ConcurrencyKey = "small" }, Job() with { ConcurrencyKey = "small" } };
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(smalls), Ct);
        var next = await ClaimAsync(limit: 5);
        Assert.Equal(smalls.Select(s => s.Id).ToHashSet(), next.Where(c => smalls.Any(s => s.Id == c.Id)).Select(c => c.Id).ToHashSet());
    }

    [Fact]
    public async Task QueueLimits_PerKey_JobsWithoutAKey_TakeTheirTurnBehindAnyBacklog_HoweverTheyCameIn()
    {
        // Jobs without a key are one key together, found wherever they are in the claim order: here behind 3,000 jobs of
        // a key with a higher priority, whether they came in before the limit was set, after it, or were re-opened by a
        // retry, and again after the limit was cleared and set anew.
        var dead = Job();
        await EnqueueAsync(dead);
        Assert.True(await FailAsync(await ClaimOneAsync(), JobState.Dead));
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(Enumerable.Range(0, 3000).Select(_ => Job() with { ConcurrencyKey = "big", Priority = 5 }).ToArray()), Ct);
        var early = Job();
        await EnqueueAsync(early);
        await LimitAsync(new QueueLimits { PerKey = 2 });
        await Store.JobRetryAsync(dead.Id, Ct);
        var late = Job();
        await EnqueueAsync(late);

        var first = await ClaimAsync(limit: 4);
        Assert.Equal(4, first.Count);
        Assert.Equal([dead.Id, early.Id], first.Where(c => c.Priority == 0).Select(c => c.Id).Order());
        Assert.True(await SucceedAsync(first.Single(c => c.Id == dead.Id)));
        Assert.True(await SucceedAsync(first.Single(c => c.Id == early.Id)));
        Assert.Equal(late.Id, Assert.Single(await ClaimAsync(limit: 4)).Id); // "big" holds its 2 slots

        await Store.QueueLimitsClearAsync("default", Ct);
        var between = Job();
        await EnqueueAsync(between);
        await LimitAsync(new QueueLimits { PerKey = 2 });
        Assert.Equal(between.Id, Assert.Single(await ClaimAsync(limit: 4)).Id);
    }

    [Fact]
    public async Task QueueLimits_PerKey_AKeysTurnGivesUpToFour_TheNextClaimGoesOnWhereItStopped()
    {
        // Keys that may run several at once give up to four jobs a turn: a claim of 8 over ten keys serves two of them,
        // and the next claim the two after them (a claim of R jobs walks at least R / 4 keys).
        var jobs = Enumerable.Range(0, 10).SelectMany(i => Enumerable.Range(0, 6).Select(_ => Job() with { ConcurrencyKey = $"k{i}" })).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey);
        await LimitAsync(new QueueLimits { PerKey = 5 });

        Assert.Equal(["k0", "k0", "k0", "k0", "k1", "k1", "k1", "k1"], (await ClaimAsync(limit: 8)).Select(c => keyOf[c.Id]).Order());
        Assert.Equal(["k2", "k2", "k2", "k2", "k3", "k3", "k3", "k3"], (await ClaimAsync(limit: 8)).Select(c => keyOf[c.Id]).Order());
    }

    [Fact]
    public async Task QueueLimits_PerKey_KeysWithFewJobsOrFullSlots_GiveWhatTheyHave_TheWalkGoesOnToFillTheClaim()
    {
        await EnqueueManyAsync(3, key: "a");
        await LimitAsync(new QueueLimits { PerKey = 2 });
        Assert.Equal(2, (await ClaimAsync(limit: 2)).Count); // "a" is full

        // "b" and "d" have one job each, "c" three (two may run): the walk counts what each can give and takes all four.
        var more = new[] { "b", "c", "c", "c", "d" }.Select(k => Job() with { ConcurrencyKey = k }).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(more), Ct);
        var keyOf = more.ToDictionary(j => j.Id, j => j.ConcurrencyKey);
        Assert.Equal(["b", "c", "c", "d"], (await ClaimAsync(limit: 4)).Select(c => keyOf[c.Id]).Order());

        // Every key with queued jobs is full now: nothing, and the queue is held back, not empty.
        var none = await ClaimAsync(limit: 4);
        Assert.Empty(none);
        Assert.Equal(["default"], ClaimedJobs.HeldBackOf(none));
    }

    [Fact]
    public async Task QueueLimits_PerKey_KeysWhoseJobsTheWorkerCannotRun_GiveNothing_TheWalkGoesOnPastThem()
    {
        // "a" and "b" come first in the walk, but only jobs of type "mine" are this worker's: their turns give nothing,
        // and the claim fills from "c" and "d".
        var jobs = new[] { ("a", "other"), ("b", "other"), ("c", "mine"), ("d", "mine") }
            .SelectMany(x => Enumerable.Range(0, 4).Select(_ => Job(type: x.Item2) with { ConcurrencyKey = x.Item1 })).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey);
        await LimitAsync(new QueueLimits { PerKey = 4 });

        Assert.Equal(["c", "c", "c", "c", "d", "d", "d", "d"], (await ClaimAsync(limit: 8, types: ["mine"])).Select(c => keyOf[c.Id]).Order());
    }

    [Fact]
    public async Task QueueLimits_PerKey_KeysBeyondAscii_AreServedInTurn()
    {
        // Keys whose order as UTF-8 bytes differs from their order as UTF-16 code units ("\uFF01" and "\U0001F600"): the
        // walk, the wrap and the cursor all follow the store's own order, so three claims of two serve each key twice.
        string[] keys = ["a", "\uFF01", "\U0001F600"];
        var jobs = keys.SelectMany(k => Enumerable.Range(0, 3).Select(_ => Job() with { ConcurrencyKey = k })).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey!);
        await LimitAsync(new QueueLimits { PerKey = 1 });

        var served = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var claimed = await ClaimAsync(limit: 2);
            Assert.Equal(2, claimed.Select(c => keyOf[c.Id]).Distinct().Count());
            served.AddRange(claimed.Select(c => keyOf[c.Id]));
            foreach (var c in claimed) await SucceedAsync(c);
        }
        Assert.All(keys, k => Assert.Equal(2, served.Count(x => x == k)));
    }

    [Fact]
    public async Task QueueLimits_Rate_StartsNeverExceedItInTheWindow()
    {
        await EnqueueManyAsync(10);
        await LimitAsync(new QueueLimits { Rate = new QueueRate(3, TimeSpan.FromHours(1)) });

        Assert.Equal(2, (await ClaimAsync(limit: 2)).Count);
        var more = await ClaimAsync(limit: 10);
        Assert.Single(more);
        await SucceedAsync(more[0]); // finishing frees no start: the rate counts starts, not running jobs
        Assert.Empty(await ClaimAsync(limit: 10));
        Assert.Equal(3, Assert.Single(await Store.QueueLimitsListAsync(Ct)).StartedInWindow);
    }

    [Fact]
    public async Task QueueLimits_RatePerKey_EachKeyStartsAtMostItsRate_OtherKeysGoOn()
    {
        // Jobs without a key are one key together ("-" here).
        var jobs = new[] { "tenant-a", "tenant-b", "-" }.SelectMany(k => Enumerable.Range(0, 5).Select(_ => Job() with { ConcurrencyKey = k == "-" ? null : k })).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey ?? "-");
        await LimitAsync(new QueueLimits { RatePerKey = new QueueRate(2, TimeSpan.FromHours(1)) });

        var claimed = (await ClaimAsync(limit: 3)).ToList();
        claimed.AddRange(await ClaimAsync(limit: 20));
        var keys = claimed.Select(c => keyOf[c.Id]).ToList();
        Assert.Equal(6, claimed.Count);
        Assert.All(new[] { "tenant-a", "tenant-b", "-" }, k => Assert.Equal(2, keys.Count(x => x == k)));
        foreach (var c in claimed) await SucceedAsync(c); // finishing frees no start: the rate counts starts
        var none = await ClaimAsync(limit: 20);
        Assert.Empty(none);
        Assert.Equal(["default"], ClaimedJobs.HeldBackOf(none));

        // A key with no start in the window starts at once, beside the used-up ones.
        var late = Enumerable.Range(0, 3).Select(_ => Job() with { ConcurrencyKey = "tenant-c" }).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(late), Ct);
        var c3 = await ClaimAsync(limit: 20);
        Assert.Equal(2, c3.Count);
        Assert.All(c3, c => Assert.Contains(late, j => j.Id == c.Id));
        var status = Assert.Single(await Store.QueueLimitsListAsync(Ct));
        Assert.Equal("2/h", status.Limits.RatePerKey?.ToString());
        Assert.Equal("rate_per_key", (await Assert.ThrowsAsync<InvalidInputException>(() =>
            LimitAsync(new QueueLimits { RatePerKey = new QueueRate(0, TimeSpan.FromSeconds(1)) }))).Field);
    }

    [Fact]
    public async Task QueueLimits_RatePerKey_WithAPerKeyLimit_BothHold_TheWindowSlides()
    {
        await EnqueueManyAsync(6, key: "tenant-a");
        await LimitAsync(new QueueLimits { PerKey = 1, RatePerKey = new QueueRate(2, TimeSpan.FromSeconds(1)) });

        var first = Assert.Single(await ClaimAsync(limit: 10)); // the per-key limit
        Assert.Empty(await ClaimAsync(limit: 10));
        await SucceedAsync(first);
        var second = Assert.Single(await ClaimAsync(limit: 10));
        await SucceedAsync(second);
        Assert.Empty(await ClaimAsync(limit: 10)); // the rate: two starts within the second

        // The window slides (PostgreSQL reads the database's clock, SQLite the store's: both move on).
        await Task.Delay(TimeSpan.FromMilliseconds(1100), Ct);
        Time.Advance(TimeSpan.FromMilliseconds(1100));
        Assert.Single(await ClaimAsync(limit: 10));
    }

    [Fact]
    public async Task QueueLimits_RatePerKey_KeysUsedUpWhereTheWalkStarts_DoNotHoldBackAnotherKey()
    {
        // One-job claims walk one key each; "a" and "b" start once an hour.
        var jobs = new[] { "a", "a", "b", "b" }.Select(k => Job() with { ConcurrencyKey = k }).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        await LimitAsync(new QueueLimits { RatePerKey = new QueueRate(1, TimeSpan.FromHours(1)) });
        Assert.Single(await ClaimAsync(limit: 1));
        Assert.Single(await ClaimAsync(limit: 1));
        Assert.Empty(await ClaimAsync(limit: 1)); // the walk wraps around to "a": used up for the hour

        // A key between them: a claim that came back short moved the walk past "a", so the next one reaches it.
        var late = Job() with { ConcurrencyKey = "aa" };
        await Store.JobEnqueueManyAsync(new JobEnqueueParams([late]), Ct);
        Assert.Equal(late.Id, Assert.Single(await ClaimAsync(limit: 1)).Id);
    }

    [Fact]
    public async Task QueueLimits_PerKey_ClaimsOfAPausedQueue_LeaveTheKeysTheirTurn()
    {
        var jobs = Enumerable.Range(0, 9).Select(i => Job() with { ConcurrencyKey = $"k{i}" }).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        await LimitAsync(new QueueLimits { PerKey = 1 });
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey);
        Assert.Equal(["k0", "k1", "k2"], (await ClaimAsync(limit: 3)).Select(c => keyOf[c.Id]).Order());

        // Claims while the queue is paused take nothing and pass over no key: the walk resumes where it stopped.
        await Store.QueuePauseAsync("default", Ct);
        Assert.Empty(await ClaimAsync(limit: 3));
        Assert.Empty(await ClaimAsync(limit: 3));
        await Store.QueueResumeAsync("default", Ct);
        Assert.Equal(["k3", "k4", "k5"], (await ClaimAsync(limit: 3)).Select(c => keyOf[c.Id]).Order());
    }

    [Fact]
    public async Task QueueLimits_PerKeySetByAnotherInstance_HoldsBeforeThisOneRereadsWhichQueuesLimitPerKey()
    {
        var jobs = Enumerable.Range(0, 5).Select(_ => Job() with { ConcurrencyKey = "k" }).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        await LimitAsync(new QueueLimits { Concurrency = 10 });
        var first = Assert.Single(await ClaimAsync(limit: 1)); // this instance has read the queue's limits: none per key
        var other = await OpenAnotherAsync();
        await other.QueueLimitsSetAsync("default", new QueueLimits { Concurrency = 10, PerKey = 1 }, Ct);

        // Until this instance reads its limits again it claims nothing from the queue, never a second job of the key.
        Assert.Empty(await ClaimAsync(limit: 10));
        await Task.Delay(LimitedQueues.RefreshEvery + TimeSpan.FromMilliseconds(100), Ct);
        Assert.Empty(await ClaimAsync(limit: 10));
        await SucceedAsync(first);
        Assert.Single(await ClaimAsync(limit: 10));
    }

    [Fact]
    public async Task QueueLimits_PerKeyTakenOffByAnotherInstance_HoldsBeforeThisOneRereadsWhichQueuesLimitPerKey()
    {
        foreach (var key in new[] { "a", "b", "c" }) await EnqueueManyAsync(2, key: key);
        await LimitAsync(new QueueLimits { Concurrency = 2, PerKey = 5 });
        var first = Assert.Single(await ClaimAsync(limit: 1)); // this instance has read the queue's limits: per key
        var other = await OpenAnotherAsync();
        await other.QueueLimitsSetAsync("default", new QueueLimits { Concurrency = 2 }, Ct);

        // Before this instance reads its limits again, the two together start one more job, not two: on PostgreSQL this one
        // claims nothing from the queue (its per-key claim would not count in the queue's running total), on SQLite it
        // reads the limits in its claim. The job running since before counts.
        var here = await ClaimAsync(limit: 10);
        var there = await ClaimAsync(limit: 10, store: other);
        Assert.Equal(1, here.Count + there.Count);
        Assert.Equal(2L, Assert.Single(await other.QueueLimitsListAsync(Ct)).Running);
        await Task.Delay(LimitedQueues.RefreshEvery + TimeSpan.FromMilliseconds(100), Ct);
        Assert.Empty(await ClaimAsync(limit: 10));
        await SucceedAsync(first);
        Assert.Single(await ClaimAsync(limit: 10));
        Assert.Equal(2L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
    }

    [Fact]
    public async Task QueueLimits_RatePerKeyAddedByAnotherInstance_HoldsBeforeThisOneRereadsTheLimits()
    {
        var jobs = Enumerable.Range(0, 12).Select(i => Job() with { ConcurrencyKey = i % 2 == 0 ? "a" : "b" }).ToArray();
        var keyOf = jobs.ToDictionary(j => j.Id, j => j.ConcurrencyKey!);
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);
        await LimitAsync(new QueueLimits { PerKey = 10 });
        Assert.Equal(2, (await ClaimAsync(limit: 2)).Count); // this instance has read the queue's limits: no rate per key
        var other = await OpenAnotherAsync();
        await other.QueueLimitsSetAsync("default", new QueueLimits { PerKey = 10, RatePerKey = new QueueRate(2, TimeSpan.FromHours(1)) }, Ct);

        // From the setting on, at most 2 starts of each key in the hour, whether or not this instance has read it yet.
        var started = new List<ClaimedJob>(await ClaimAsync(limit: 20));
        await Task.Delay(LimitedQueues.RefreshEvery + TimeSpan.FromMilliseconds(100), Ct);
        started.AddRange(await ClaimAsync(limit: 20));
        started.AddRange(await ClaimAsync(limit: 20));
        Assert.Equal(["a", "a", "b", "b"], started.Select(j => keyOf[j.Id]).Order());
    }

    [Fact]
    public async Task QueueLimits_Cleared_QueueClaimsAsBefore()
    {
        await EnqueueManyAsync(5);
        await LimitAsync(new QueueLimits { Concurrency = 1 });
        Assert.Single(await ClaimAsync(limit: 10));
        await Store.QueueLimitsClearAsync("default", Ct);
        Assert.Equal(4, (await ClaimAsync(limit: 10)).Count);
        Assert.Empty(await Store.QueueLimitsListAsync(Ct));
    }

    [Fact]
    public async Task QueueLimits_BadInput_RefusedNamingIt_NothingChanged()
    {
        await EnqueueManyAsync(1);
        Assert.Equal("concurrency", (await Assert.ThrowsAsync<InvalidInputException>(() => LimitAsync(new QueueLimits { Concurrency = 0 }))).Field);
        Assert.Equal("per_key", (await Assert.ThrowsAsync<InvalidInputException>(() => LimitAsync(new QueueLimits { PerKey = -1 }))).Field);
        Assert.Throws<InvalidInputException>(() => QueueRate.Parse("100/d", "rate"));
        Assert.Throws<InvalidInputException>(() => QueueRate.Parse("0/s", "rate"));
        var unknown = await Assert.ThrowsAsync<QueueNotFoundException>(() => LimitAsync(new QueueLimits { Concurrency = 1 }, "nowhere"));
        Assert.Contains("nowhere", unknown.Message);
        await Assert.ThrowsAsync<QueueNotFoundException>(() => Store.QueueLimitsClearAsync("nowhere", Ct));
        Assert.Empty(await Store.QueueLimitsListAsync(Ct));
        Assert.Single(await ClaimAsync());
    }

    [Fact]
    public async Task QueueLimits_SetWhileJobsRun_TheyCountAgainstIt()
    {
        await EnqueueManyAsync(5);
        Assert.Equal(2, (await ClaimAsync(limit: 2)).Count);
        await LimitAsync(new QueueLimits { Concurrency = 3 });
        Assert.Single(await ClaimAsync(limit: 10));
    }

    [Fact]
    public async Task QueueLimits_ClearedThenSetAgain_JobsRunningMeanwhileCount()
    {
        await EnqueueManyAsync(6);
        await LimitAsync(new QueueLimits { Concurrency = 1 });
        Assert.Single(await ClaimAsync(limit: 10));
        await Store.QueueLimitsClearAsync("default", Ct);
        Assert.Equal(2, (await ClaimAsync(limit: 2)).Count);
        await LimitAsync(new QueueLimits { Concurrency = 4 });
        Assert.Single(await ClaimAsync(limit: 10));
        Assert.Equal(4, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
    }

    // Per key the slots are the marked running jobs; without keys a running total, changed by every way out.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task QueueLimits_RunningCount_ExactThroughEveryWayOutOfRunning_AndUpkeep(bool perKey)
    {
        foreach (var key in new[] { "a", "b", "c" }) await EnqueueManyAsync(8, key: key);
        await EnqueueManyAsync(4);
        await LimitAsync(new QueueLimits { Concurrency = 5, PerKey = perKey ? 2 : null });
        var running = new List<ClaimedJob>();
        for (var round = 0; round < 12; round++)
        {
            running.AddRange(await ClaimAsync(limit: 10));
            Assert.True(running.Count <= 5, $"{running.Count} running under a limit of 5");
            Assert.Equal(running.Count, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
            // End them every way there is, in turn: success, retried failure, dead failure, cancel, given back; upkeep between.
            var ending = running.Take(2).ToArray();
            foreach (var (job, i) in ending.Select((j, i) => (j, i)))
            {
                switch ((round + i) % 5)
                {
                    case 4: Assert.True(await ReportAsync(new JobRequeuedReport(job.Id, job.Attempt, job.WorkerId))); break;
                    case 0: Assert.True(await SucceedAsync(job)); break;
                    case 1: Assert.True(await FailAsync(job, JobState.Queued)); break;
                    case 2: Assert.True(await FailAsync(job, JobState.Dead)); break;
                    default:
                        await Store.JobCancelAsync(job.Id, Ct);
                        Assert.True(await ReportAsync(new JobCancelledReport(job.Id, job.Attempt, job.WorkerId)));
                        break;
                }
                running.Remove(job);
            }
            if (round % 3 == 2) await Store.UpkeepAsync(Ct);
            Assert.Equal(running.Count, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
        }
    }

    [Fact]
    public async Task QueueLimits_TurnedToAndFromPerKey_WhileJobsRun_TheyStillCount()
    {
        foreach (var key in new[] { "a", "b" }) await EnqueueManyAsync(6, key: key);
        await LimitAsync(new QueueLimits { Concurrency = 4 });
        var running = (await ClaimAsync(limit: 10)).ToList();
        Assert.Equal(4, running.Count);
        async Task<long> Running() => Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running;

        // Per key now: the four running still hold the queue's slots.
        await LimitAsync(new QueueLimits { Concurrency = 4, PerKey = 3 });
        Assert.Equal(4L, await Running());
        Assert.Empty(await ClaimAsync(limit: 10));
        Assert.True(await SucceedAsync(running[0]));
        running.RemoveAt(0);
        // (A claim with room for one walks one key: a, whose slots are full; the next walks on to b.)
        var one = (await ClaimAsync(limit: 10)).Concat(await ClaimAsync(limit: 10)).ToList();
        Assert.Single(one);
        running.AddRange(one);

        // And back: the running jobs (one claimed per key) are counted again, whichever way they end.
        await LimitAsync(new QueueLimits { Concurrency = 4 });
        Assert.Equal(4L, await Running());
        Assert.Empty(await ClaimAsync(limit: 10));
        Assert.True(await SucceedAsync(running[0]));
        Assert.True(await FailAsync(running[1], JobState.Queued));
        running.RemoveRange(0, 2);
        Assert.Equal(2L, await Running());
        running.AddRange(await ClaimAsync(limit: 10));
        Assert.Equal(4, running.Count);
        Assert.Equal(4L, await Running());

        // Cleared, jobs claimed without the limit and some ending meanwhile; set again: exactly the running ones count.
        await Store.QueueLimitsClearAsync("default", Ct);
        Assert.True(await SucceedAsync(running[0]));
        running.RemoveAt(0);
        running.AddRange(await ClaimAsync(limit: 3));
        Assert.Equal(6, running.Count);
        await LimitAsync(new QueueLimits { Concurrency = 7 });
        Assert.Equal(6L, await Running());
        await Store.UpkeepAsync(Ct);
        Assert.True(await FailAsync(running[0], JobState.Dead));
        await Store.UpkeepAsync(Ct);
        Assert.Equal(5L, await Running());
        Assert.Equal(2, (await ClaimAsync(limit: 10)).Count);
        Assert.Equal(7L, await Running());
    }

    [Fact]
    public async Task QueueLimits_ChangedOnOneInstanceWhileReportsCommitOnAnother_CountStaysExact()
    {
        // Settings adopt the running jobs (for a limit without keys, under a fresh epoch) while another instance's successes
        // commit: whichever commits first, each running job is counted once and each ended one not at all.
        await EnqueueManyAsync(600, key: null);
        await LimitAsync(new QueueLimits { Concurrency = 1000 });
        var running = new List<ClaimedJob>();
        while (running.Count < 400) running.AddRange(await ClaimAsync(limit: 200));
        var reporter = await OpenAnotherAsync();
        var ending = running.Take(300).ToArray();
        var reports = Task.Run(async () =>
        {
            foreach (var batch in ending.Chunk(5))
                Assert.All(await reporter.JobReportManyAsync(batch.Select(j => (JobReport)new JobSucceededReport(j.Id, j.Attempt, j.WorkerId, null)).ToArray(), Ct), Assert.True);
        }, Ct);
        QueueLimits[] settings = [new() { Concurrency = 1000, PerKey = 1000 }, new() { Concurrency = 1000 }, new() { Concurrency = 999 }];
        for (var i = 0; !reports.IsCompleted; i++)
        {
            if (i % 4 == 3) await Store.QueueLimitsClearAsync("default", Ct);
            else await LimitAsync(settings[i % 4 % settings.Length]);
        }
        await reports;
        await LimitAsync(new QueueLimits { Concurrency = 1000 });
        await Store.UpkeepAsync(Ct);
        Assert.Equal(100L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
        Assert.Equal(200, (await ClaimAsync(limit: 1000)).Count);
        Assert.Equal(300L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
    }

    [Fact]
    public async Task QueueLimits_PerKey_CountExactThroughALostWorkersRescue()
    {
        await EnqueueManyAsync(4, key: "a");
        await EnqueueManyAsync(1, key: "b");
        await LimitAsync(new QueueLimits { PerKey = 2 });
        var lost = await ClaimAsync(worker: "w1", limit: 10);
        Assert.Equal(3, lost.Count);

        // Its leases expire: its jobs still hold their key's slots until the rescue takes them back.
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Empty(await ClaimAsync(worker: "w2", limit: 10));
        Assert.Equal(3, (await Store.JobRescueExpiredAsync(new JobRescueParams(), Ct)).Count);
        Assert.Equal(0L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);

        // Rescued, they are claimable again under the same limit: two of a and the one of b, no more.
        var again = await ClaimAsync(worker: "w2", limit: 10);
        Assert.Equal(3, again.Count);
        Assert.Empty(await ClaimAsync(worker: "w2", limit: 10));
        Assert.Equal(3L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
        foreach (var job in again) Assert.True(await SucceedAsync(job));
        Assert.Equal(2, (await ClaimAsync(worker: "w2", limit: 10)).Count);
        Assert.Equal(2L, Assert.Single(await Store.QueueLimitsListAsync(Ct)).Running);
    }

    [Fact]
    public async Task QueueLimits_ShortClaim_SaysHeldBack_PlainQueueDoesNot()
    {
        await EnqueueManyAsync(3);
        await EnqueueManyAsync(1, queue: "plain");
        await LimitAsync(new QueueLimits { Concurrency = 2 });

        var held = await ClaimAsync(limit: 10);
        Assert.Equal(2, held.Count);
        Assert.Equal(["default"], ClaimedJobs.HeldBackOf(held));
        Assert.Empty(ClaimedJobs.HeldBackOf(await ClaimAsync(limit: 10, queue: "plain")));
    }

    [Fact]
    public async Task JobGet_ShowsTheConcurrencyKeyAndTheUniquenessWindow()
    {
        var job = Job() with
        {
            IdempotencyKey = "refresh:42", UniqueFor = TimeSpan.FromMinutes(10), UniqueWhile = [JobState.Queued, JobState.Running],
            ConcurrencyKey = "tenant-7",
        };
        await EnqueueAsync(job);
        var plain = await EnqueueAsync();

        var record = await GetAsync(job.Id);
        Assert.Equal("tenant-7", record.ConcurrencyKey);
        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromMinutes(10), record.UniqueUntil!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal([JobState.Queued, JobState.Running], record.UniqueWhile);
        var other = await GetAsync(plain);
        Assert.Null(other.ConcurrencyKey);
        Assert.Null(other.UniqueUntil);
        Assert.Null(other.UniqueWhile);
        Assert.Equal("tenant-7", Assert.Single((await Store.JobListAsync(new JobListParams { Limit = 10 }, Ct)), j => j.Id == job.Id).ConcurrencyKey);
    }

    [Fact]
    public async Task UniqueFor_KeyExpires_NewJobTakesIt()
    {
        var first = Job() with { IdempotencyKey = "refresh:42", UniqueFor = TimeSpan.FromMinutes(10) };
        Assert.False(Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([first]), Ct)).Existing);
        var again = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "refresh:42", UniqueFor = TimeSpan.FromMinutes(10) }]), Ct));
        Assert.True(again.Existing);
        Assert.Equal(first.Id, again.Id);

        Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var later = Job() with { IdempotencyKey = "refresh:42", UniqueFor = TimeSpan.FromMinutes(10) };
        var result = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([later]), Ct));
        Assert.False(result.Existing);
        Assert.Equal(later.Id, result.Id);
    }

    [Fact]
    public async Task UniqueWhile_KeyHoldsOnlyInTheGivenStates()
    {
        var first = Job() with { IdempotencyKey = "acct:7", UniqueWhile = [JobState.Queued] };
        await EnqueueAsync(first);
        Assert.True(Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "acct:7" }]), Ct)).Existing);

        await ClaimOneAsync(); // running: out of the window
        var second = Job() with { IdempotencyKey = "acct:7", UniqueWhile = [JobState.Queued, JobState.Running] };
        var result = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([second]), Ct));
        Assert.False(result.Existing);
        Assert.Equal(second.Id, result.Id);
        Assert.True(Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "acct:7" }]), Ct)).Existing);
    }

    [Fact]
    public async Task IdempotencyKey_WithoutWindow_HoldsAfterTheJobEnds()
    {
        var first = Job() with { IdempotencyKey = "once" };
        await EnqueueAsync(first);
        await SucceedAsync(await ClaimOneAsync());
        Time.Advance(TimeSpan.FromDays(1));
        var again = Assert.Single(await Store.JobEnqueueManyAsync(new JobEnqueueParams([Job() with { IdempotencyKey = "once" }]), Ct));
        Assert.True(again.Existing);
        Assert.Equal(first.Id, again.Id);
    }
}
