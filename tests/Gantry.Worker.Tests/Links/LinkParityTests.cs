using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Links.Ipc;
using Gantry.Worker.Tests.Support;
using Gantry.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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

        await using var server = await StartServerAsync();
        using var http = new HttpWorkerLink(new Uri(server.Urls.First()), token: null);
        var overHttp = await RunThroughAsync(http);

        await using var node = await StandInNode.StartAsync(Store, Dir, Ct);
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

    private async Task<WebApplication> StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<IJobStore>(Store);
        builder.Services.AddGantryApi();
        var app = builder.Build();
        app.MapGantryApi();
        await app.StartAsync(Ct);
        return app;
    }

    /// <summary>The node's end of the socket, as the node answers it: claims from the store as the node, writes jobs
    /// with <see cref="IpcFrames"/>, passes reports and lease renewals through.</summary>
    private sealed class StandInNode : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly IJobStore _store;
        private readonly CancellationToken _ct;
        private IpcConnection? _connection;

        private StandInNode(Socket listener, IJobStore store, string socketPath, CancellationToken ct)
        {
            _listener = listener;
            _store = store;
            SocketPath = socketPath;
            _ct = ct;
        }

        public string SocketPath { get; }

        public static async Task<StandInNode> StartAsync(IJobStore store, string dir, CancellationToken ct)
        {
            var path = Path.Combine(dir, "node.sock");
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            var node = new StandInNode(listener, store, path, ct);
            _ = node.AcceptAsync();
            await Task.CompletedTask;
            return node;
        }

        private async Task AcceptAsync()
        {
            _connection = new IpcConnection(await _listener.AcceptAsync(_ct));
            _connection.Start(OnMessage);
        }

        private void OnMessage(IpcConnection c, IpcMessageType type, uint id, ReadOnlySpan<byte> body)
        {
            var r = new FrameReader(body);
            switch (type)
            {
                case IpcMessageType.Hello:
                    IpcFrames.ReadHello(ref r);
                    c.Send(IpcMessageType.Hello | IpcMessageType.ResponseBit, id);
                    return;
                case IpcMessageType.Fetch:
                    var demands = IpcFrames.ReadFetch(ref r);
                    Answer<IReadOnlyList<ClaimedJob>>(c, id, type, async () =>
                    {
                        var jobs = await _store.JobClaimAsync(new JobClaimParams("node-1", demands, TimeSpan.FromSeconds(30), [], [BuiltInHandlers.Echo, BuiltInHandlers.Noop, Capture]), _ct);
                        return (IpcFrames.WriteJobs, (IReadOnlyList<ClaimedJob>)jobs);
                    });
                    return;
                case IpcMessageType.WaitJobs:
                    var timeout = r.Duration() ?? TimeSpan.Zero;
                    Answer<int>(c, id, type, async () =>
                    {
                        await _store.Signals.JobsAvailable.WaitAsync(timeout, _ct);
                        return ((Action<FrameWriter, int>?)null, 0);
                    });
                    return;
                case IpcMessageType.Report:
                    var reports = IpcFrames.ReadReports(ref r);
                    Answer<IReadOnlyList<bool>>(c, id, type, async () => (IpcFrames.WriteApplied, await _store.JobReportManyAsync(reports, _ct)));
                    return;
                case IpcMessageType.Heartbeat:
                    var held = IpcFrames.ReadLeases(ref r);
                    Answer<IReadOnlyCollection<JobLease>>(c, id, type, async () =>
                    {
                        var result = await _store.WorkerHeartbeatAsync(new WorkerHeartbeatParams("node-1", TimeSpan.FromSeconds(30), held), _ct);
                        return (IpcFrames.WriteLeases, (IReadOnlyCollection<JobLease>)result.LostJobs);
                    });
                    return;
            }
        }

        private static void Answer<T>(IpcConnection c, uint id, IpcMessageType type, Func<Task<(Action<FrameWriter, T>? Write, T Value)>> work) =>
            _ = Task.Run(async () =>
            {
                try
                {
                    var (write, value) = await work();
                    c.Send(type | IpcMessageType.ResponseBit, id, value, write);
                }
                catch (Exception ex)
                {
                    c.SendError(id, ex.Message);
                }
            });

        public async ValueTask DisposeAsync()
        {
            if (_connection is not null) await _connection.DisposeAsync();
            _listener.Dispose();
        }
    }
}
