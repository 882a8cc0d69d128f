using System.Collections.Concurrent;
using System.Diagnostics;
using Gantry.Telemetry;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    /// <summary>Records the spans of Gantry's source that belong to one trace (other tests may trace at the same time).</summary>
    private sealed class TraceRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        public ConcurrentQueue<Activity> Stopped { get; } = new();

        public TraceRecorder(Func<ActivityTraceId> traceId)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == GantryTracing.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a => { if (a.TraceId == traceId()) Stopped.Enqueue(a); },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task JobEnqueue_InsideATrace_RecordsTheEnqueueSpanAsParent_AndTheClaimCarriesIt()
    {
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C);
        using var recorder = new TraceRecorder(() => request.TraceId);
        request.TraceStateString = "vendor=1";
        request.Start();
        var id = await EnqueueAsync(Job("traced"));
        request.Stop();

        var enqueue = Assert.Single(recorder.Stopped, a => a.OperationName == "gantry enqueue");
        Assert.Equal(request.SpanId, enqueue.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, enqueue.Kind);
        var stored = await GetAsync(id);
        Assert.Equal(enqueue.Id, stored.TraceParent);
        Assert.Equal("vendor=1", stored.TraceState);

        var claimed = await ClaimOneAsync();
        Assert.Equal(enqueue.Id, claimed.TraceParent);
        Assert.Equal("vendor=1", claimed.TraceState);
        Assert.Equal(request.TraceId.ToHexString(), GantryTracing.TraceId(claimed.TraceParent));
    }

    [Fact]
    public async Task JobEnqueue_InACallersSpan_RecordsTheCallersTrace_EvenWithNoGantryListener()
    {
        // A caller's span (an ASP.NET Core request's) is recorded even when nobody listens to Gantry's source.
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var id = await EnqueueAsync(Job("traced"));
        request.Stop();

        var stored = await GetAsync(id);
        Assert.Equal(request.TraceId.ToHexString(), GantryTracing.TraceId(stored.TraceParent));
    }

    [Fact]
    public async Task WorkflowCreate_InsideATrace_EveryStepRecordsTheEnqueueSpan()
    {
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C);
        using var recorder = new TraceRecorder(() => request.TraceId);
        request.Start();
        var steps = await CreateAsync(Flow(("a", []), ("b", ["a"])));
        request.Stop();

        var enqueue = Assert.Single(recorder.Stopped, a => a.OperationName == "gantry enqueue");
        foreach (var id in steps.Values) Assert.Equal(enqueue.Id, (await GetAsync(id)).TraceParent);
    }

    [Fact]
    public async Task JobEnqueue_WithEachJobsTrace_EachRecordsItsOwn_AndTheStoreMakesNoSpan()
    {
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C);
        using var recorder = new TraceRecorder(() => request.TraceId);
        request.Start();
        var a = Job("traced");
        var b = Job("traced");
        var c = Job("traced");
        const string parentA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        const string parentB = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        await Store.JobEnqueueManyAsync(new JobEnqueueParams([a, b, c]) { Traces = [(parentA, "vendor=a"), (parentB, null), (null, null)] }, CancellationToken.None);
        request.Stop();

        Assert.DoesNotContain(recorder.Stopped, s => s.OperationName == "gantry enqueue");
        Assert.Equal((parentA, "vendor=a"), ((await GetAsync(a.Id)).TraceParent, (await GetAsync(a.Id)).TraceState));
        Assert.Equal((parentB, (string?)null), ((await GetAsync(b.Id)).TraceParent, (await GetAsync(b.Id)).TraceState));
        Assert.Null((await GetAsync(c.Id)).TraceParent);
    }
}
