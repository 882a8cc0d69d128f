using System.Collections.Concurrent;
using Gantry.Storage;
using Gantry.Worker.Links.Ipc;

namespace Gantry.Worker.Links;

/// <summary>
/// A managed worker's link: it talks only to its node, over the node's Unix domain socket, and is
/// anonymous to the coordinator (the node claims, reports and renews leases on its behalf). Control
/// messages (cancel a job, pause, resume, shut down) are pushed by the node and handed to the runtime
/// as commands at once. When the socket closes the node is gone: <see cref="Closed"/> completes and
/// the process should exit.
/// </summary>
public sealed class IpcWorkerLink : IWorkerLink, IAsyncDisposable
{
    private readonly IpcConnection _connection;
    private readonly string _socketPath;
    private readonly int _localId;
    private readonly ConcurrentQueue<WorkerCommand> _commands = new();
    private readonly AsyncSignal _commandsSignal = new();
    private readonly ConcurrentQueue<JobLease> _started = new();
    private readonly Timer _startedFlush;
    private int _startedFlushQueued;

    private IpcWorkerLink(IpcConnection connection, string socketPath, int localId)
    {
        _connection = connection;
        _socketPath = socketPath;
        _localId = localId;
        _startedFlush = new Timer(static link => ((IpcWorkerLink)link!).FlushStarted(), this, Timeout.Infinite, Timeout.Infinite);
        connection.Start(OnMessage);
    }

    /// <summary>Connects to the node's socket; <paramref name="localId"/> is the number the node spawned this worker with.</summary>
    public static async Task<IpcWorkerLink> ConnectAsync(string socketPath, int localId, CancellationToken ct)
    {
        try
        {
            return new IpcWorkerLink(await IpcConnection.ConnectAsync(socketPath, ct).ConfigureAwait(false), socketPath, localId);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new StoreUnavailableException(Ipc.IpcSocketErrors.Describe(ex, socketPath), ex);
        }
    }

    /// <inheritdoc/>
    public string Description => $"node {_socketPath} (worker {_localId})";

    /// <summary>Completes when the node closed the socket (it stopped or died).</summary>
    public Task Closed => _connection.Closed;

    /// <summary>Raised when the node asks the worker to stop; true for a graceful stop (drain first).</summary>
    public event Action<bool>? ShutdownRequested;

    /// <inheritdoc/>
    public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) =>
        _connection.RequestAsync(IpcMessageType.Hello,
            new IpcHello(_localId, registration.ProcessId, registration.Id, registration.Capacity, registration.Queues, registration.JobTypes, registration.Capabilities),
            IpcFrames.WriteHello, static (ref FrameReader _) => true, ct);

    /// <inheritdoc/>
    public Task DeregisterAsync(string workerId, CancellationToken ct)
    {
        FlushStarted();
        if (!_connection.IsClosed) _connection.Send(IpcMessageType.Bye);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) =>
        _connection.RequestAsync<IpcFetch, IReadOnlyList<ClaimedJob>>(IpcMessageType.Fetch, new IpcFetch(p.Queues, mayWait), IpcFrames.WriteFetch,
            static (ref FrameReader r) => IpcFrames.ReadJobs(ref r), ct, orphaned: GiveBack);

    /// <summary>Jobs claimed for a fetch the worker stopped waiting for (it is shutting down) go back to the queue.</summary>
    private void GiveBack(IReadOnlyList<ClaimedJob> jobs)
    {
        if (jobs.Count == 0 || _connection.IsClosed) return;
        var reports = jobs.Select(j => (JobReport)new JobRequeuedReport(j.Id, j.Attempt, j.WorkerId)).ToArray();
        _ = ReportAsync(reports, CancellationToken.None).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    /// <inheritdoc/>
    public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) =>
        _connection.RequestAsync(IpcMessageType.WaitJobs, timeout, static (w, t) => w.Duration(t), static (ref FrameReader _) => true, ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
    {
        // Started goes first, so the node never sees an outcome before it knows the job ran.
        FlushStarted();
        return MessageParts.ReportAsync(reports, IpcFrames.ListBudget, static r => IpcFrames.SizeOf(r, IpcFrames.Bound),
            static r => IpcFrames.SizeOf(r, IpcFrames.Exact), "a node's worker can report in one message", SendReportsAsync, ct);
    }

    private Task<IReadOnlyList<bool>> SendReportsAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) =>
        _connection.RequestAsync<IReadOnlyList<JobReport>, IReadOnlyList<bool>>(IpcMessageType.Report, reports, IpcFrames.WriteReports,
            static (ref FrameReader r) => IpcFrames.ReadApplied(ref r), ct);

    /// <summary>Commands come pushed by the node, not with the heartbeat; its answer names the attempts lost.</summary>
    public async Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct)
    {
        var lost = await _connection.RequestAsync<IReadOnlyList<JobLease>, List<JobLease>>(IpcMessageType.Heartbeat, p.Jobs, IpcFrames.WriteLeases,
            static (ref FrameReader r) => IpcFrames.ReadLeases(ref r), ct).ConfigureAwait(false);
        return new WorkerHeartbeatResult([], lost);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct)
    {
        if (_commands.IsEmpty) return Task.FromResult<IReadOnlyList<WorkerCommand>>([]);
        var list = new List<WorkerCommand>();
        while (_commands.TryDequeue(out var c)) list.Add(c);
        return Task.FromResult<IReadOnlyList<WorkerCommand>>(list);
    }

    /// <inheritdoc/>
    public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => _commandsSignal.WaitAsync(timeout, ct);

    /// <summary>
    /// How long a start may wait to be told to the node together with the next ones. Sent as soon as
    /// possible, short jobs cost a frame per start or two (110,000 frames in one node benchmark): a send
    /// in the worker and a wake-up in the node each, and the node's wake-ups kept preempting its store
    /// writer mid-transaction, which all its workers wait on. A worker that dies within this delay of a
    /// start has that attempt requeued by the node, not counted, as it could while a flush waited for a thread.
    /// </summary>
    internal static readonly TimeSpan StartedDelay = TimeSpan.FromMilliseconds(2);

    /// <summary>Tells the node, in a batch sent off the job's path within <see cref="StartedDelay"/>, that these attempts started.</summary>
    public void JobStarted(JobLease attempt)
    {
        _started.Enqueue(attempt);
        if (Interlocked.Exchange(ref _startedFlushQueued, 1) == 0) _startedFlush.Change(StartedDelay, Timeout.InfiniteTimeSpan);
    }

    private void FlushStarted()
    {
        Volatile.Write(ref _startedFlushQueued, 0);
        if (_started.IsEmpty) return;
        var batch = new List<JobLease>();
        while (_started.TryDequeue(out var lease)) batch.Add(lease);
        try
        {
            _connection.Send(IpcMessageType.Started, 0, batch, IpcFrames.WriteLeases);
        }
        catch (IOException)
        {
            // The node is gone; Closed ends the process.
        }
    }

    private void OnMessage(IpcConnection connection, IpcMessageType type, uint id, ReadOnlySpan<byte> body)
    {
        var reader = new FrameReader(body);
        switch (type)
        {
            case IpcMessageType.Ping:
                connection.Send(IpcMessageType.Ping | IpcMessageType.ResponseBit, id);
                return;
            case IpcMessageType.CancelJob:
                var job = reader.Guid();
                // The flag says graceful: false is a cancel without the grace period.
                Command(new WorkerCommand(reader.Bool() ? WorkerCommandKind.CancelJob : WorkerCommandKind.CancelJobNow, job));
                return;
            case IpcMessageType.Pause:
                Command(new WorkerCommand(WorkerCommandKind.Pause, null));
                return;
            case IpcMessageType.Resume:
                Command(new WorkerCommand(WorkerCommandKind.Resume, null));
                return;
            case IpcMessageType.Shutdown:
                var graceful = reader.Bool();
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Link.ShutdownRequested?.Invoke(s.Graceful), (Link: this, Graceful: graceful), preferLocal: false);
                return;
        }
    }

    private void Command(WorkerCommand command)
    {
        _commands.Enqueue(command);
        _commandsSignal.Set();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _startedFlush.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
