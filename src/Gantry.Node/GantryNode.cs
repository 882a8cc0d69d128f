using System.Text.Json;
using Gantry.Node.Autoscaling;
using Gantry.Node.Ipc;
using Gantry.Node.Status;
using Gantry.Node.Supervision;
using Gantry.Node.Upstream;
using Gantry.Storage;
using Gantry.Worker.Coordination;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;

namespace Gantry.Node;

/// <summary>
/// One supervisor per machine: it spawns worker processes and serves them over a Unix domain
/// socket, and is the coordinator's single registered worker for all of them — it claims on their
/// behalf, merges their reports, renews every lease they hold in one heartbeat and relays control
/// commands. Workers are anonymous to the coordinator. Shutdown drains every worker (up to the
/// drain timeout; the rest is requeued), then deregisters. It keeps in touch with its coordinator through a
/// <see cref="CoordinatorSession"/>, as a worker does, and applies the commands it hands over to its workers.
/// </summary>
public sealed class GantryNode : IAsyncDisposable, ISessionOwner
{
    private readonly NodeOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly NodeUpstream _upstream;
    private readonly WorkerSpawner _spawner = new();
    private readonly Supervisor _supervisor;
    private readonly IpcServer _server;
    private readonly Func<CancellationToken, Task<long>>? _backlog;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _shutdownNow;
    private readonly List<Task> _loops = [];
    private readonly DateTimeOffset _startedAt;
    private int _registeredWorkers = -1;
    private int _target;
    private int _started, _stopped;

    /// <param name="link">The link to the coordinator: the store, or a server over HTTP.</param>
    /// <param name="backlog">Counts the jobs waiting in the node's queues, for the autoscaler; without it, full claims are the sign.</param>
    public GantryNode(IWorkerLink link, NodeOptions options, ILoggerFactory loggers, TimeProvider? time = null, Func<CancellationToken, Task<long>>? backlog = null)
    {
        options.Validate();
        _options = options;
        _logger = loggers.CreateLogger("Gantry.Node");
        _time = time ?? TimeProvider.System;
        _backlog = backlog;
        _startedAt = _time.GetUtcNow();
        _upstream = new NodeUpstream(link, options, _logger, _time);
        _supervisor = new Supervisor(options, _upstream, _spawner, _logger, _time);
        _server = new IpcServer(options.PrivateDirectory, options.SocketPath, _supervisor.Attach, StatusJson, _logger);
        _target = options.Workers;
    }

    /// <summary>The node's id: <see cref="NodeOptions.NodeId"/>.</summary>
    public string Id => _options.NodeId;
    /// <summary>The options the node was made with, validated.</summary>
    public NodeOptions Options => _options;

    /// <summary>Completes when a drain command from the coordinator asked the node to stop: its process should exit.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Listens on the socket, registers with the coordinator (waiting out a coordinator that is down), starts the first workers and the autoscaler; throws <see cref="InvalidOperationException"/> when called twice.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) throw new InvalidOperationException("the node is already started");
        await _server.StartAsync(ct).ConfigureAwait(false);
        _registeredWorkers = _target;
        await _upstream.Session.RegisterAsync(_upstream.Registration(_target), ct).ConfigureAwait(false);
        _upstream.Session.Start(this);
        _supervisor.ScaleTo(_target);
        _loops.Add(Task.Run(() => _supervisor.RunAsync(_stop.Token), CancellationToken.None));
        if (_options.EffectiveMinWorkers != _options.EffectiveMaxWorkers)
            _loops.Add(Task.Run(() => AutoscaleLoopAsync(_stop.Token), CancellationToken.None));
        NodeLog.Started(_logger, Id, _upstream.Link.Description, _target, _options.EffectiveWorkerCapacity,
            _options.EffectiveMinWorkers, _options.EffectiveMaxWorkers, _options.SocketPath);
    }

    /// <summary>The node and its workers now, as <c>gantry node status</c> shows them. Thread-safe.</summary>
    public NodeStatus Status() => new(Id, Environment.ProcessId, _upstream.Link.Description,
        _stopped == 1 ? "stopping" : _supervisor.AllFailed ? "failed" : _paused ? "paused" : "running", _startedAt,
        _options.EffectiveMinWorkers, _options.EffectiveMaxWorkers, _options.EffectiveWorkerCapacity, _paused, _supervisor.Status())
    {
        Name = _options.Name,
    };

    private string StatusJson() => JsonSerializer.Serialize(Status(), NodeStatusJson.Default.NodeStatus);

    private volatile bool _paused;

    /// <summary>Attempts whose lease the node holds for its workers.</summary>
    public int HeldLeases => _upstream.Held.Count;

    /// <summary>Since the coordinator last renewed the node's leases (its registration or last heartbeat).</summary>
    public TimeSpan HeartbeatAge => _upstream.Session.HeartbeatAge;

    /// <summary>True from the first stop signal or drain command on.</summary>
    public bool IsStopping => Volatile.Read(ref _stopped) == 1;

    /// <summary>Ready for work (<c>/health/ready</c>): registered, the coordinator reachable (its last call to it
    /// succeeded) and not stopping.</summary>
    public bool IsReady => _upstream.Session.IsRegistered && !_upstream.Outage.IsDown && !IsStopping;

    /// <summary>
    /// Stops without draining, whether <see cref="StopAsync"/> is under way or still to come (a second Ctrl-C): every
    /// worker gives its running jobs back at once (requeued without counting the attempt, checkpoints kept).
    /// </summary>
    public void StopNow()
    {
        _shutdownNow = true;
        if (Volatile.Read(ref _stopped) == 1) _supervisor.GiveBackNow();
    }

    /// <summary>
    /// Drains every worker (each finishes its jobs for up to the drain timeout, then requeues the
    /// rest), kills any that outstay it, writes the last reports and deregisters. <see cref="StopNow"/> hurries it; a
    /// second call, or one before start, does nothing.
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (_started == 0 || Interlocked.Exchange(ref _stopped, 1) == 1) return;
        NodeLog.Stopping(_logger, Id, _supervisor.LiveCount, _options.DrainTimeout.TotalSeconds);
        // Heartbeats go on meanwhile: leases of jobs that drain must not expire.
        await _supervisor.StopAllAsync(_options.DrainTimeout + _options.CancelGracePeriod + TimeSpan.FromSeconds(10), ct, graceful: !_shutdownNow).ConfigureAwait(false);
        await _upstream.Session.StopAsync(ct).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        var tally = _upstream.Tally;
        NodeLog.Stopped(_logger, Id, tally.Succeeded, tally.Failed, tally.Cancelled, tally.Requeued, RunTally.Format(tally.Uptime));
    }

    void ISessionOwner.Pause()
    {
        NodeLog.Command(_logger, Id, "paused: its workers claim nothing until resumed");
        _paused = true;
        _supervisor.SetPaused(true);
    }

    void ISessionOwner.Resume()
    {
        NodeLog.Command(_logger, Id, "resumed");
        _paused = false;
        _supervisor.SetPaused(false);
        _supervisor.RestartFailed(); // Resume is also how an operator says "try again" after fixing what made them fail.
    }

    void ISessionOwner.Drain()
    {
        NodeLog.Command(_logger, Id, "draining: its workers finish their jobs, then the node stops");
        _drained.TrySetResult();
    }

    void ISessionOwner.Shutdown()
    {
        NodeLog.Command(_logger, Id, "shutting down: its workers give their jobs back, then the node stops");
        _shutdownNow = true;
        _drained.TrySetResult();
    }

    /// <summary>A cancel goes to the worker holding the job, or to all when it is on its way to one.</summary>
    void ISessionOwner.Cancel(Guid jobId, bool now)
    {
        var sessions = _supervisor.Sessions();
        var holder = sessions.FirstOrDefault(s => s.Holds(jobId));
        foreach (var session in holder is null ? sessions : [holder]) session.Cancel(jobId, now);
    }

    /// <summary>The worker holding the attempt hears of it at its next heartbeat to the node.</summary>
    void ISessionOwner.Lose(JobLease attempt)
    {
        foreach (var session in _supervisor.Sessions()) session.Lose(attempt);
    }

    /// <summary>Takes back from the workers every attempt whose lease the node could not renew, before it runs out (see <see cref="LeaseGuard"/>).</summary>
    IReadOnlyCollection<JobLease> ISessionOwner.StopUnrenewed(TimeSpan unrenewed)
    {
        var taken = new List<JobLease>();
        foreach (var session in _supervisor.Sessions()) taken.AddRange(session.LoseAll());
        if (taken.Count > 0) NodeLog.LeasesRunningOut(_logger, taken.Count, unrenewed.TotalSeconds, _options.LeaseDuration.TotalSeconds);
        return taken;
    }

    /// <summary>The node's capacity is its live workers': registered again when their number changes, except while stopping.</summary>
    WorkerRegistration? ISessionOwner.Reregistration()
    {
        var live = _supervisor.LiveCount;
        if (live == _registeredWorkers || _stopped == 1) return null;
        _registeredWorkers = live;
        return _upstream.Registration(live);
    }

    IReadOnlyList<ManagedWorkerInfo>? ISessionOwner.Managed() => _supervisor.Status();

    private async Task AutoscaleLoopAsync(CancellationToken ct)
    {
        var scaler = new Autoscaler(_options.EffectiveMinWorkers, _options.EffectiveMaxWorkers, _options.EffectiveWorkerCapacity, _options.Autoscale);
        using var timer = new PeriodicTimer(_options.Autoscale.Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    var (running, capacity) = _supervisor.Load();
                    var utilisation = capacity == 0 ? 1 : (double)running / capacity;
                    var hint = _upstream.TakeBacklogHint();
                    var backlog = _backlog is null ? (hint ? 1 : 0) : await _backlog(ct).ConfigureAwait(false);
                    var wanted = scaler.Decide(_target, new LoadSample(utilisation, backlog));
                    if (wanted == _target || _stopped == 1) continue;
                    if (scaler.LastDecision is { } d)
                        NodeLog.Scaling(_logger, d.From, d.To, d.Why, d.Samples, d.LowestUtilisation, d.HighestUtilisation, d.Backlog, d.Cooldown.TotalSeconds);
                    _target = wanted;
                    _supervisor.ScaleTo(wanted);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _upstream.Outage.Failed("autoscale", ex);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops the node if it is running (as <see cref="StopAsync"/>) and frees its socket and processes.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _supervisor.DisposeAsync().ConfigureAwait(false);
        _spawner.Dispose();
        _upstream.Session.Dispose();
        _stop.Dispose();
    }
}
