using System.Collections.Concurrent;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Gantry.Workflows;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// The same workflow step, run through each link a worker can have (the store, the server's HTTP
/// worker protocol, a node's IPC socket): its handler must see the same context, field by field.
/// </summary>
public sealed class LinkParityTests : WorkerTestBase
{
    private const string Capture = "test.capture";
    private static readonly ConcurrentDictionary<Guid, ContextSeen> Seen = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddGantryHandler<CaptureHandler>(Capture);

    /// <summary>What a handler can read from its context, as comparable text.</summary>
    private sealed record ContextSeen(Guid JobId, string Type, string Queue, int Attempt, int MaxAttempts, string Tags, string Payload,
        string? Checkpoint, string Dependencies, bool Cancellable);

    /// <summary>Saves a checkpoint and fails its first attempt; the second records its context.</summary>
    private sealed class CaptureHandler : IJobHandler<JsonElement, int>
    {
        public async ValueTask<int> HandleAsync(JsonElement payload, JobContext context)
        {
            if (context.Attempt == 1)
            {
                await context.SaveCheckpointAsync(new { step = 7 });
                throw new InvalidOperationException("first attempt fails on purpose");
            }
            Seen[context.JobId] = new ContextSeen(context.JobId, context.Type, context.Queue, context.Attempt, context.MaxAttempts,
                JsonSerializer.Serialize(context.Tags.OrderBy(t => t.Key, StringComparer.Ordinal)), payload.GetRawText(),
                context.Checkpoint is { } c ? Convert.ToBase64String(c.Span) : null,
                JsonSerializer.Serialize(context.DependencyResults.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new[] { d.Key, d.Value.GetRawText() })),
                context.CancellationToken.CanBeCanceled);
            return 0;
        }
    }

    [Fact]
    public async Task WorkflowStep_RunThroughStoreHttpAndIpc_HandlerSeesTheSameContext()
    {
        await StartSchedulerAsync(); // promotes the failed first attempt's retry
        var store = await RunThroughAsync(new StoreWorkerLink(Store));

        await using var server = await TestServer.StartAsync(Store, Ct);
        using var http = new HttpWorkerLink(server.Url(), token: null);
        var overHttp = await RunThroughAsync(http);

        await using var node = StandInNode.Start(Store, Dir, [BuiltInHandlers.Echo, BuiltInHandlers.Noop, Capture], Ct);
        await using var ipc = await IpcWorkerLink.ConnectAsync(node.SocketPath, localId: 1, Ct);
        var overIpc = await RunThroughAsync(ipc);

        Assert.Equal(2, store.Attempt);
        Assert.NotNull(store.Checkpoint);
        Assert.StartsWith("""[["left","{\u0022n\u0022:2}"],["right",""", store.Dependencies, StringComparison.Ordinal);
        foreach (var (name, seen) in new[] { ("http", overHttp), ("ipc", overIpc) })
        {
            // Each run is its own job; everything else must match the store link's view.
            var expected = store with { JobId = seen.JobId };
            Assert.True(expected == seen, $"over {name} the handler saw {seen}, over the store {expected}");
        }
    }

    [Fact]
    public async Task HeldBack_ClaimOverStoreHttpAndIpc_NamesTheSameQueues()
    {
        // A limit of 1 on "default": the first claim takes one job and is cut short, the others find no room. Every link
        // must say the queue was held back (not empty), even with no job, and leave a plain queue's short claim unmarked.
        for (var i = 0; i < 4; i++) await EnqueueAsync(Job(BuiltInHandlers.Noop));
        await EnqueueAsync(Job(BuiltInHandlers.Noop, queue: "plain"));
        await Store.QueueLimitsSetAsync("default", new Gantry.Flow.QueueLimits { Concurrency = 1 }, anyQueue: false, Ct);

        await using var server = await TestServer.StartAsync(Store, Ct);
        using var http = new HttpWorkerLink(server.Url(), token: null);
        await using var node = StandInNode.Start(Store, Dir, [BuiltInHandlers.Noop], Ct);
        await using var ipc = await IpcWorkerLink.ConnectAsync(node.SocketPath, localId: 1, Ct);
        var links = new (string Name, IWorkerLink Link)[] { ("store", new StoreWorkerLink(Store)), ("http", http), ("ipc", ipc) };
        foreach (var (name, link) in links)
        {
            var claim = new JobClaimParams($"parity-{name}", [new QueueDemand("default", 3)], TimeSpan.FromSeconds(30), [], null);
            var claimed = await link.ClaimAsync(claim, mayWait: false, Ct);
            Assert.Equal(name == "store" ? 1 : 0, claimed.Count);
            Assert.True(Gantry.Flow.ClaimedJobs.HeldBackOf(claimed).SequenceEqual(["default"]), $"over {name} the held-back queues were [{string.Join(", ", Gantry.Flow.ClaimedJobs.HeldBackOf(claimed))}]");
        }
        foreach (var (name, link) in links)
        {
            var plain = await link.ClaimAsync(new JobClaimParams($"parity-{name}", [new QueueDemand("plain", 5)], TimeSpan.FromSeconds(30), [], null), mayWait: false, Ct);
            Assert.Empty(Gantry.Flow.ClaimedJobs.HeldBackOf(plain));
        }
    }

    /// <summary>Runs a two-step workflow (an echo, a null result, then the capture) on a worker over <paramref name="link"/>.</summary>
    private async Task<ContextSeen> RunThroughAsync(IWorkerLink link)
    {
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        var capture = Job(Capture, """{"size":3,"name":"x\u00e9"}""") with
        {
            MaxAttempts = 3,
            Backoff = new Backoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)),
            Tags = new Dictionary<string, string> { ["team"] = "a", ["env"] = "test" },
            Timeout = TimeSpan.FromMinutes(5),
        };
        var flow = new NewWorkflow
        {
            Id = JobIds.New(),
            Name = "parity",
            Steps =
            [
                new NewWorkflowStep("left", Job(BuiltInHandlers.Echo, """{"n":2}"""), []),
                new NewWorkflowStep("right", Job(BuiltInHandlers.Noop), []),
                new NewWorkflowStep("capture", capture, ["left", "right"]),
            ],
        };
        var created = await Store.WorkflowCreateAsync(new WorkflowCreateParams(flow), Ct);
        var id = created.Steps.Single(s => s.Step == "capture").JobId;
        await WaitForStateAsync(id, JobState.Succeeded);
        await worker.StopAsync(Ct);
        return Seen[id];
    }
}
