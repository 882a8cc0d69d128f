using System.Collections.Concurrent;
using System.Net.Sockets;
using Gantry.Storage;
using Gantry.Worker.Links;
using Gantry.Worker.Links.Ipc;

namespace Gantry.Worker.Tests.Links;

/// <summary>A managed worker's link against a real Unix socket, with the test playing the node.</summary>
public sealed class IpcWorkerLinkTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gantry-ipc-").FullName;
    private readonly ConcurrentQueue<(IpcMessageType Type, List<JobLease> Leases)> _frames = new();
    private Socket? _listener;
    private IpcConnection? _node;
    private IpcWorkerLink? _link;

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1));
    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "node.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen();
        var accepted = _listener.AcceptAsync(Ct);
        _link = await IpcWorkerLink.ConnectAsync(path, localId: 1, Ct);
        _node = new IpcConnection(await accepted);
        _node.Start(OnNodeMessage);
    }

    /// <summary>What the node answers a fetch with.</summary>
    private IReadOnlyList<ClaimedJob> _fetchAnswer = [];

    // Records Started and Report frames in arrival order; answers reports as applied, fetches with _fetchAnswer.
    private void OnNodeMessage(IpcConnection connection, IpcMessageType type, uint id, ReadOnlySpan<byte> body)
    {
        var reader = new FrameReader(body);
        switch (type)
        {
            case IpcMessageType.Fetch:
                connection.Send(IpcMessageType.Fetch | IpcMessageType.ResponseBit, id, _fetchAnswer, IpcFrames.WriteJobs);
                break;
            case IpcMessageType.Started:
                _frames.Enqueue((type, IpcFrames.ReadLeases(ref reader)));
                break;
            case IpcMessageType.Report:
                var reports = IpcFrames.ReadReports(ref reader);
                _frames.Enqueue((type, reports.Select(r => new JobLease(r.JobId, r.Attempt)).ToList()));
                connection.Send(IpcMessageType.Report | IpcMessageType.ResponseBit, id, reports.Select(_ => true).ToArray(), IpcFrames.WriteApplied);
                break;
        }
    }

    [Fact]
    public async Task JobStarted_ManyStartsAtOnce_ReachTheNodeInFewFrames()
    {
        var starts = Enumerable.Range(0, 2_000).Select(i => new JobLease(Guid.CreateVersion7(), 1)).ToList();
        foreach (var start in starts) _link!.JobStarted(start);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_frames.Sum(f => f.Leases.Count) < starts.Count && DateTime.UtcNow < deadline) await Task.Delay(10, Ct);

        var received = _frames.Where(f => f.Type == IpcMessageType.Started).SelectMany(f => f.Leases).ToList();
        Assert.Equal(starts, received); // every start, once, in order
        // One frame per start would wake the node 2,000 times; they go together (a stalled machine may split them).
        Assert.InRange(_frames.Count, 1, 20);
    }

    [Fact]
    public async Task Report_AfterAStart_TheStartArrivesFirst()
    {
        var attempt = new JobLease(Guid.CreateVersion7(), 1);
        _link!.JobStarted(attempt);
        var applied = await _link.ReportAsync([new JobSucceededReport(attempt.JobId, attempt.Attempt, "node-1", null)], Ct);

        Assert.Equal([true], applied);
        Assert.Equal([(IpcMessageType.Started, attempt), (IpcMessageType.Report, attempt)], _frames.Select(f => (f.Type, Assert.Single(f.Leases))).ToArray());
    }

    [Fact]
    public async Task Claim_WorkflowStep_ItsDependencyResultsReachTheWorker()
    {
        var step = new ClaimedJob
        {
            Id = Guid.CreateVersion7(), Type = "t", Queue = "default", Payload = "{}", Attempt = 1, MaxAttempts = 3, WorkerId = "node-1",
            Dependencies = new Dictionary<string, string?> { ["fetch"] = """{"rows":3}""", ["nothing"] = null },
        };
        var plain = new ClaimedJob { Id = Guid.CreateVersion7(), Type = "t", Queue = "default", Payload = "{}", Attempt = 1, MaxAttempts = 3, WorkerId = "node-1" };
        _fetchAnswer = [step, plain];

        var jobs = await _link!.ClaimAsync(new JobClaimParams("w", [new QueueDemand("default", 2)], TimeSpan.FromSeconds(30), [], null), mayWait: false, Ct);

        Assert.Equal(step.Dependencies, jobs[0].Dependencies);
        Assert.Null(jobs[1].Dependencies); // a plain job has none, not an empty set
    }

    public async Task DisposeAsync()
    {
        if (_link is not null) await _link.DisposeAsync();
        if (_node is not null) await _node.DisposeAsync();
        _listener?.Dispose();
        Directory.Delete(_dir, recursive: true);
        _timeout.Dispose();
    }
}
