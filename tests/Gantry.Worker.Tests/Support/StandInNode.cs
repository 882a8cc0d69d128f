using System.Net.Sockets;
using Gantry.Storage;
using Gantry.Worker.Links.Ipc;

namespace Gantry.Worker.Tests.Support;

/// <summary>The node's end of the socket, as the node answers it: claims from the store as the node, writes jobs
/// with <see cref="IpcFrames"/>, passes reports and lease renewals through.</summary>
internal sealed class StandInNode : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly IJobStore _store;
    private readonly IReadOnlyList<string> _jobTypes;
    private readonly CancellationToken _ct;
    private IpcConnection? _connection;

    private StandInNode(Socket listener, IJobStore store, string socketPath, IReadOnlyList<string> jobTypes, CancellationToken ct)
    {
        _jobTypes = jobTypes;
        _listener = listener;
        _store = store;
        SocketPath = socketPath;
        _ct = ct;
    }

    public string SocketPath { get; }

    public static StandInNode Start(IJobStore store, string dir, IReadOnlyList<string> jobTypes, CancellationToken ct)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "node.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var node = new StandInNode(listener, store, path, jobTypes, ct);
        _ = node.AcceptAsync();
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
                var fetch = IpcFrames.ReadFetch(ref r);
                Answer<IReadOnlyList<ClaimedJob>>(c, id, type, async () =>
                {
                    var jobs = await _store.JobClaimAsync(new JobClaimParams("node-1", fetch.Demands, TimeSpan.FromSeconds(30), [], _jobTypes), _ct);
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
