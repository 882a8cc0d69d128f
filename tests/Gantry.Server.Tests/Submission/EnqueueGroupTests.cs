using System.Collections.Concurrent;
using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Server.Submission;
using Gantry.Storage;
using Gantry.Telemetry;
using Gantry.TestSupport;
using Microsoft.Data.Sqlite;

namespace Gantry.Server.Tests.Submission;

/// <summary>
/// Concurrent submits sharing one insert, on a real SQLite store. The first insert is held up by another connection's
/// write lock on the file (as a busy database holds a commit), so the callers that arrive meanwhile wait for it for
/// certain, and go in together once it is let go.
/// </summary>
public sealed class EnqueueGroupTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static NewJob Job(string type = "echo") => new() { Id = JobIds.New(), Type = type };

    /// <summary>Takes the file's write lock until disposed: the store's next write waits (its busy timeout is 10 s).</summary>
    private static async Task<SqliteConnection> HoldWriteLockAsync(TempSqliteStore temp)
    {
        var c = new SqliteConnection($"Data Source={temp.Path};Pooling=False");
        await c.OpenAsync();
        await using var begin = c.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        await begin.ExecuteNonQueryAsync();
        return c;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the callers did not line up behind the held insert");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task ConcurrentSubmits_WhileAnInsertIsInFlight_GoInTogether_EachCallerGetsItsOwnJobsInOrder()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        var group = EnqueueGroup.For(temp.Store);
        var batches = Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, 1 + i % 3).Select(_ => Job()).ToArray()).ToArray();

        var hold = await HoldWriteLockAsync(temp);
        var first = Task.Run(() => Submit.JobsAsync(temp.Store, batches[0], allowUnknownTypes: true, [], CancellationToken.None));
        await WaitForAsync(() => group.Inserts == 1);
        var rest = batches.Skip(1).Select(b => Task.Run(() => Submit.JobsAsync(temp.Store, b, allowUnknownTypes: true, [], CancellationToken.None))).ToArray();
        await WaitForAsync(() => group.Waiting == rest.Length);
        await hold.DisposeAsync();

        var results = await Task.WhenAll([first, .. rest]).WaitAsync(Patience);
        // The held insert, then one for all who waited behind it.
        Assert.Equal(2, group.Inserts);
        for (var i = 0; i < batches.Length; i++)
        {
            Assert.Equal(batches[i].Select(j => j.Id), results[i].Select(r => r.Id));
            Assert.All(results[i], r => Assert.False(r.Existing));
            Assert.All(results[i], r => Assert.Equal(JobState.Queued, r.State));
        }
        foreach (var job in batches.SelectMany(b => b))
            Assert.Equal(JobState.Queued, (await temp.Store.JobGetAsync(job.Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task ACallerThatGivesUpWhileWaiting_LeavesNoJob_TheOthersAreStored()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        var group = EnqueueGroup.For(temp.Store);
        var hold = await HoldWriteLockAsync(temp);
        var first = Task.Run(() => Submit.JobsAsync(temp.Store, [Job()], allowUnknownTypes: true, [], CancellationToken.None));
        await WaitForAsync(() => group.Inserts == 1);
        using var giveUp = new CancellationTokenSource();
        var quitter = Job();
        var stays = Job();
        var cancelled = Task.Run(() => Submit.JobsAsync(temp.Store, [quitter], allowUnknownTypes: true, [], giveUp.Token));
        var kept = Task.Run(() => Submit.JobsAsync(temp.Store, [stays], allowUnknownTypes: true, [], CancellationToken.None));
        await WaitForAsync(() => group.Waiting == 2);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await hold.DisposeAsync();

        await Task.WhenAll(first, kept).WaitAsync(Patience);
        Assert.NotNull(await temp.Store.JobGetAsync(stays.Id, CancellationToken.None));
        Assert.Null(await temp.Store.JobGetAsync(quitter.Id, CancellationToken.None));
    }

    [Fact]
    public async Task AGroupThatFails_FailsEveryCallerInIt_AndTheNextSubmitsStillGo()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        var other = await temp.OpenAnotherAsync();
        var group = EnqueueGroup.For(other);
        await other.DisposeAsync();

        var calls = Enumerable.Range(0, 8).Select(_ => Task.Run(() => Submit.JobsAsync(other, [Job()], allowUnknownTypes: true, [], CancellationToken.None))).ToArray();
        foreach (var call in calls) await Assert.ThrowsAsync<ObjectDisposedException>(() => call.WaitAsync(Patience));
        Assert.Equal(0, group.Waiting);
        // The store that is still open groups on as before.
        var ok = await Submit.JobsAsync(temp.Store, [Job()], allowUnknownTypes: true, [], CancellationToken.None);
        Assert.Single(ok);
    }

    [Fact]
    public async Task JobsWithIdempotencyKeys_AreNotGrouped_AndStillFindTheirHolder()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        Assert.False(EnqueueGroup.Takes([Job(), Job() with { IdempotencyKey = "k" }]));
        Assert.True(EnqueueGroup.Takes([Job(), Job()]));

        var a = await Submit.JobsAsync(temp.Store, [Job() with { IdempotencyKey = "k" }], allowUnknownTypes: true, [], CancellationToken.None);
        var b = await Submit.JobsAsync(temp.Store, [Job() with { IdempotencyKey = "k" }], allowUnknownTypes: true, [], CancellationToken.None);
        Assert.True(b[0].Existing);
        Assert.Equal(a[0].Id, b[0].Id);
        Assert.Equal(0, EnqueueGroup.For(temp.Store).Inserts);
    }

    [Fact]
    public async Task CallersInTraces_GoInTogether_EachJobRecordsItsOwnCallersTrace_WithAnEnqueueSpanEach()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        var group = EnqueueGroup.For(temp.Store);
        var spans = new ConcurrentQueue<Activity>();
        var traces = new ConcurrentDictionary<ActivityTraceId, bool>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GantryTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (traces.ContainsKey(a.TraceId)) spans.Enqueue(a); },
        };
        ActivitySource.AddActivityListener(listener);

        async Task<(ActivityTraceId Trace, Guid Job)> SubmitInATraceAsync()
        {
            using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
            traces[request.TraceId] = true;
            var job = Job();
            await Submit.JobsAsync(temp.Store, [job], allowUnknownTypes: true, [], CancellationToken.None);
            return (request.TraceId, job.Id);
        }

        var hold = await HoldWriteLockAsync(temp);
        var first = Task.Run(SubmitInATraceAsync);
        await WaitForAsync(() => group.Inserts == 1);
        var rest = Enumerable.Range(0, 5).Select(_ => Task.Run(SubmitInATraceAsync)).ToArray();
        await WaitForAsync(() => group.Waiting == rest.Length);
        await hold.DisposeAsync();
        var submitted = await Task.WhenAll([first, .. rest]).WaitAsync(Patience);

        Assert.Equal(2, group.Inserts);
        foreach (var (trace, id) in submitted)
        {
            var stored = (await temp.Store.JobGetAsync(id, CancellationToken.None))!;
            Assert.Equal(trace.ToHexString(), GantryTracing.TraceId(stored.TraceParent));
            var enqueue = Assert.Single(spans, s => s.TraceId == trace && s.OperationName == "gantry enqueue");
            Assert.Equal(enqueue.Id, stored.TraceParent);
        }
    }
}
