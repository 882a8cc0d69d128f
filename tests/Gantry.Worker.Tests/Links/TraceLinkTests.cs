using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Telemetry;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// A job enqueued inside a trace runs as a child of its enqueue span whatever the worker's link (the store, the
/// server's HTTP worker protocol, a node's IPC socket): the trace context travels with the job over each of them.
/// </summary>
public sealed class TraceLinkTests : WorkerTestBase
{
    private const string Traced = "test.traced";
    private static readonly ConcurrentDictionary<Guid, (string? TraceId, string? SpanId)> SeenByHandler = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddGantryHandler<TracedHandler>(Traced);

    /// <summary>Records the span current while it runs.</summary>
    private sealed class TracedHandler : IJobHandler<JsonElement, int>
    {
        public ValueTask<int> HandleAsync(JsonElement payload, JobContext context)
        {
            SeenByHandler[context.JobId] = (Activity.Current?.TraceId.ToHexString(), Activity.Current?.SpanId.ToHexString());
            return ValueTask.FromResult(0);
        }
    }

    [Fact]
    public async Task JobRun_OverStoreHttpAndIpc_IsAChildOfItsEnqueueSpan()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GantryTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await RunThroughAsync("store", new StoreWorkerLink(Store), stopped);

        await using var server = await TestServer.StartAsync(Store, Ct);
        using var http = new HttpWorkerLink(server.Url(), token: null);
        await RunThroughAsync("http", http, stopped);

        await using var node = StandInNode.Start(Store, Dir, [BuiltInHandlers.Echo, BuiltInHandlers.Noop, Traced], Ct);
        await using var ipc = await IpcWorkerLink.ConnectAsync(node.SocketPath, localId: 1, Ct);
        await RunThroughAsync("ipc", ipc, stopped);
    }

    private async Task RunThroughAsync(string name, IWorkerLink link, ConcurrentQueue<Activity> stopped)
    {
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var id = await EnqueueAsync(Traced);
        request.Stop();
        await WaitForStateAsync(id, JobState.Succeeded);
        await worker.StopAsync(Ct);

        var trace = stopped.Where(a => a.TraceId == request.TraceId).ToArray();
        var enqueue = Assert.Single(trace, a => a.OperationName == "gantry enqueue");
        var run = Assert.Single(trace, a => a.OperationName == $"gantry run {Traced}");
        Assert.True(run.ParentSpanId == enqueue.SpanId, $"over {name} the run's parent is {run.ParentSpanId}, not the enqueue span {enqueue.SpanId}");
        Assert.Equal(ActivityStatusCode.Ok, run.Status);
        Assert.Equal("succeeded", run.GetTagItem("gantry.job.outcome"));
        Assert.Equal((request.TraceId.ToHexString(), run.SpanId.ToHexString()), SeenByHandler[id]);
        // The claim that took it is its own trace, linked to the job's.
        Assert.Contains(stopped, a => a.OperationName == "gantry claim" && a.Links.Any(l => l.Context.SpanId == enqueue.SpanId));
    }
}
