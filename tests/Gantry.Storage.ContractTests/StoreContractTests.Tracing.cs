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
}
