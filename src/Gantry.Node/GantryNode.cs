using System.Text.Json;
using Gantry.Node.Autoscaling;
using Gantry.Node.Ipc;
using Gantry.Node.Status;
using Gantry.Node.Supervision;
using Gantry.Node.Upstream;
using Gantry.Storage;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;
using Gantry.Time;

namespace Gantry.Node;

/// <summary>
/// One supervisor per machine: it spawns worker processes and serves them over a Unix domain
/// socket, and is the coordinator's single registered worker for all of them — it claims on their
/// behalf, merges their reports, renews every lease they hold in one heartbeat and relays control
/// commands. Workers are anonymous to the coordinator. Shutdown drains every worker (up to the
/// drain timeout; the rest is requeued), then deregisters.
/// </summary>
public sealed class GantryNode : IAsyncDisposable
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
    private readonly LeaseGuard _leases;
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
        // A worker hears that its attempt was taken back at its next heartbeat to the node: one interval sooner.
        _leases = new LeaseGuard(options.LeaseDuration - options.EffectiveHeartbeatInterval, _time);
    }

    public string Id => _options.NodeId;
    public NodeOptions Options => _options;

    /// <summary>Completes when a drain command from the coordinator asked the node to stop: its process should exit.</summary>
    public Task Drained => _drained.Task;

    public async Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) throw new InvalidOperationException("the node is already started");
        await _server.StartAsync(ct).ConfigureAwait(false);
        await _upstream.Link.RegisterAsync(_upstream.Registration(_target), ct).ConfigureAwait(false);
        _registeredWorkers = _target;
        _registered = true;
        _leases.Renewed(_leases.Now());
        _upstream.Reports.Start(_stop.Token);
        _supervisor.ScaleTo(_target);
        _loops.Add(Task.Run(() => _supervisor.RunAsync(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => HeartbeatLoopAsync(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => CommandLoopAsync(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => LeaseGuardLoopAsync(_stop.Token), CancellationToken.None));
        if (_options.EffectiveMinWorkers != _options.EffectiveMaxWorkers)
            _loops.Add(Task.Run(() => AutoscaleLoopAsync(_stop.Token), CancellationToken.None));
        NodeLog.Started(_logger, Id, _upstream.Link.Description, _target, _options.EffectiveWorkerCapacity,
            _options.EffectiveMinWorkers, _options.EffectiveMaxWorkers, _options.SocketPath);
    }

    public NodeStatus Status() => new(Id, Environment.ProcessId, _upstream.Link.Description,
        _stopped == 1 ? "stopping" : _supervisor.AllFailed ? "failed" : _paused ? "paused" : "running", _startedAt,
        _options.EffectiveMinWorkers, _options.EffectiveMaxWorkers, _options.EffectiveWorkerCapacity, _paused, _supervisor.Status())
    {
        Name = _options.Name,
    };

    private string StatusJson() => JsonSerializer.Serialize(Status(), NodeStatusJson.Default.NodeStatus);

    private volatile bool _paused;
    private volatile bool _registered;

    /// <summary>Attempts whose lease the node holds for its workers.</summary>
    public int HeldLeases => _upstream.Held.Count;

    /// <summary>Since the coordinator last renewed the node's leases (its registration or last heartbeat).</summary>
    public TimeSpan HeartbeatAge => _leases.Unrenewed;

    /// <summary>True from the first stop signal or drain command on.</summary>
    public bool IsStopping => Volatile.Read(ref _stopped) == 1;

    /// <summary>Ready for work (<c>/health/ready</c>): registered, the coordinator reachable (its last call to it
    /// succeeded) and not stopping.</summary>
    public bool IsReady => _registered && !_upstream.Outage.IsDown && !IsStopping;

    /// <summary>
    /// Drains every worker (each finishes its jobs for up to the drain timeout, then requeues the
    /// rest), kills any that outstay it, writes the last reports and deregisters.
    /// </summary>
    /// <summary>
    /// Stops without draining, whether <see cref="StopAsync"/> is under way or still to come (a second Ctrl-C): every
    /// worker gives its running jobs back at once (requeued without counting the attempt, checkpoints kept).
    /// </summary>
    public void StopNow()
    {
        _shutdownNow = true;
        if (Volatile.Read(ref _stopped) == 1) _supervisor.GiveBackNow();
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_started == 0 || Interlocked.Exchange(ref _stopped, 1) == 1) return;
        NodeLog.Stopping(_logger, Id, _supervisor.LiveCount, _options.DrainTimeout.TotalSeconds);
        // Heartbeats go on meanwhile: leases of jobs that drain must not expire.
        await _supervisor.StopAllAsync(_options.DrainTimeout + _options.CancelGracePeriod + TimeSpan.FromSeconds(10), ct, graceful: !_shutdownNow).ConfigureAwait(false);
        await _upstream.Reports.CompleteAsync(ct).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        try
        {
            await _upstream.Link.DeregisterAsync(Id, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            NodeLog.LinkError(_logger, "deregister", ex.Message);
        }
        await _server.DisposeAsync().ConfigureAwait(false);
        var tally = _upstream.Reports.Tally;
        NodeLog.Stopped(_logger, Id, tally.Succeeded, tally.Failed, tally.Cancelled, tally.Requeued, RunTally.Format(tally.Uptime));
    }

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.EffectiveHeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    var live = _supervisor.LiveCount;
                    if (live != _registeredWorkers && _stopped == 0)
                    {
                        await _upstream.Link.RegisterAsync(_upstream.Registration(live), ct).ConfigureAwait(false);
                        _registeredWorkers = live;
                    }
                    var sessions = _supervisor.Sessions();
                    var (held, claims) = _upstream.Held.Snapshot();
                    var sentAt = _leases.Now();
                    var result = await _upstream.Link.HeartbeatAsync(new WorkerHeartbeatParams(Id, _options.LeaseDuration, held, _supervisor.Status(), claims), ct).ConfigureAwait(false);
                    _leases.Renewed(sentAt);
                    _upstream.Held.Confirmed(claims);
                    _upstream.Outage.Ok();
                    Apply(result.Commands);
                    foreach (var lost in result.LostJobs)
                    {
                        _upstream.Held.Release(lost);
                        foreach (var session in sessions) session.Lose(lost);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    _upstream.Outage.Failed("heartbeat", ex);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Takes back from the workers every attempt whose lease the node could not renew, before it runs out (see <see cref="LeaseGuard"/>).</summary>
    private async Task LeaseGuardLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (!_leases.Expiring) continue;
                var taken = 0;
                foreach (var session in _supervisor.Sessions())
                {
                    foreach (var lease in session.LoseAll())
                    {
                        _upstream.Held.Release(lease);
                        taken++;
                    }
                }
                if (taken > 0) NodeLog.LeasesRunningOut(_logger, taken, _leases.Unrenewed.TotalSeconds, _options.LeaseDuration.TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task CommandLoopAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _upstream.Link.WaitForCommandsAsync(delay, ct).ConfigureAwait(false);
                Apply(await _upstream.Link.TakeCommandsAsync(Id, ct).ConfigureAwait(false));
                _upstream.Outage.Ok();
                delay = TimeSpan.FromMilliseconds(250);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                delay = RetryPause.After(delay);
                _upstream.Outage.Failed("commands", ex);
                try { await Task.Delay(delay, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
            }
        }
    }

    /// <summary>Cancels go to the worker holding the job (or to all, when it is on its way to one); the rest concern the whole node.</summary>
    private void Apply(IReadOnlyList<WorkerCommand> commands)
    {
        foreach (var command in commands)
        {
            switch (command.Kind)
            {
                case WorkerCommandKind.CancelJob or WorkerCommandKind.CancelJobNow when command.JobId is { } id:
                    var sessions = _supervisor.Sessions();
                    var holder = sessions.FirstOrDefault(s => s.Holds(id));
                    foreach (var session in holder is null ? sessions : [holder]) session.Cancel(id, command.Kind == WorkerCommandKind.CancelJobNow);
                    break;
                case WorkerCommandKind.Pause:
                    NodeLog.Command(_logger, Id, "paused: its workers claim nothing until resumed");
                    _paused = true;
                    _supervisor.SetPaused(true);
                    break;
                case WorkerCommandKind.Resume:
                    NodeLog.Command(_logger, Id, "resumed");
                    _paused = false;
                    _supervisor.SetPaused(false);
                    _supervisor.RestartFailed(); // Resume is also how an operator says "try again" after fixing what made them fail.
                    break;
                case WorkerCommandKind.Drain:
                    NodeLog.Command(_logger, Id, "draining: its workers finish their jobs, then the node stops");
                    _drained.TrySetResult();
                    break;
                case WorkerCommandKind.Shutdown:
                    NodeLog.Command(_logger, Id, "shutting down: its workers give their jobs back, then the node stops");
                    _shutdownNow = true;
                    _drained.TrySetResult();
                    break;
            }
        }
    }

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

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _supervisor.DisposeAsync().ConfigureAwait(false);
        _spawner.Dispose();
        _stop.Dispose();
    }
}
