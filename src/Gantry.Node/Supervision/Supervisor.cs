using System.Diagnostics;
using System.Globalization;
using Gantry.Node.Ipc;
using Gantry.Node.Upstream;
using Gantry.Storage;
using Gantry.Worker.Links.Ipc;
using Microsoft.Extensions.Logging;

namespace Gantry.Node.Supervision;

/// <summary>
/// Keeps the node's worker processes running: spawns them, matches each connection to its slot,
/// pings them, restarts one that exits or stops answering (with backoff, up to a limit), ends the
/// jobs a lost worker held at once, and grows or shrinks the set on the autoscaler's word
/// (draining a worker before it stops). One lock guards the slots; nothing slow runs under it.
/// </summary>
internal sealed class Supervisor(NodeOptions options, NodeUpstream upstream, WorkerSpawner spawner, ILogger logger, TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private readonly object _lock = new();
    private readonly List<ManagedWorker> _workers = [];
    private readonly RestartPolicy _restarts = new(options);
    private readonly List<Task> _watchers = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _nextLocalId = 1;
    private bool _stopped;
    private volatile bool _paused;

    /// <summary>Fires when the node stops: in-flight fetches and waits of workers end.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Workers alive or about to be (not failed, draining or stopped).</summary>
    public int LiveCount
    {
        get { lock (_lock) return _workers.Count(w => w.IsLive); }
    }

    /// <summary>True when no worker is alive or about to be and at least one has failed: the node cannot run anything.</summary>
    public bool AllFailed
    {
        get { lock (_lock) return !_stopped && ManagedWorkerStates.AllFailed(_workers.Select(w => w.State)); }
    }

    /// <summary>Starts every failed worker again, its restart history forgotten (an operator asked: the cause may be fixed). Returns how many.</summary>
    public int RestartFailed()
    {
        lock (_lock)
        {
            if (_stopped) return 0;
            var failed = _workers.Where(w => w.State == ManagedWorkerStates.Failed).ToList();
            foreach (var slot in failed)
            {
                slot.History.Recent.Clear();
                slot.History.InARow = 0;
                slot.State = ManagedWorkerStates.Restarting;
                slot.RestartAt = time.GetUtcNow();
            }
            if (failed.Count > 0) NodeLog.RestartingFailed(logger, failed.Count);
            return failed.Count;
        }
    }

    public List<WorkerSession> Sessions()
    {
        lock (_lock) return _workers.Where(w => w.Session is not null).Select(w => w.Session!).ToList();
    }

    public List<ManagedWorkerInfo> Status()
    {
        lock (_lock) return _workers.Select(w => w.Info(options.EffectiveWorkerCapacity)).ToList();
    }

    /// <summary>Jobs running over capacity, of the workers that are up.</summary>
    public (int Running, int Capacity) Load()
    {
        lock (_lock)
        {
            var up = _workers.Where(w => w.State == ManagedWorkerStates.Running && w.Session is not null).ToList();
            return (up.Sum(w => w.Session!.Running), up.Count * options.EffectiveWorkerCapacity);
        }
    }

    /// <summary>Brings the number of live workers to <paramref name="count"/>: new slots spawn, surplus ones drain and stop.</summary>
    public void ScaleTo(int count)
    {
        lock (_lock)
        {
            if (_stopped) return;
            var live = _workers.Where(w => w.IsLive).OrderBy(w => w.LocalId).ToList();
            for (var i = live.Count; i < count; i++)
            {
                var slot = new ManagedWorker(_nextLocalId++) { State = ManagedWorkerStates.Restarting, RestartAt = time.GetUtcNow() };
                _workers.Add(slot);
            }
            // Newest first: they hold the least.
            foreach (var slot in live.Skip(count).Reverse()) Retire(slot);
            // Failed and stopped slots are shown until the count they belong to is reached again.
            if (_workers.Count(x => x.IsLive) >= count) _workers.RemoveAll(w => w.State == ManagedWorkerStates.Stopped);
        }
    }

    /// <summary>Pauses or resumes every worker, including ones started later.</summary>
    public void SetPaused(bool paused)
    {
        _paused = paused;
        foreach (var session in Sessions()) session.Send<object?>(paused ? IpcMessageType.Pause : IpcMessageType.Resume, null, null);
    }

    /// <summary>A worker said hello: its slot gets the session, or the connection is refused.</summary>
    public WorkerSession? Attach(IpcConnection connection, IpcHello hello)
    {
        lock (_lock)
        {
            var slot = _workers.FirstOrDefault(w => w.LocalId == hello.LocalId && (w.Pid is null || w.Pid == hello.ProcessId) && w.State == ManagedWorkerStates.Starting);
            if (slot is null || _stopped) return null;
            slot.Session = new WorkerSession(connection, hello, slot, upstream, logger, _stopping.Token);
            slot.State = ManagedWorkerStates.Running;
            slot.NextPingAt = time.GetTimestamp() + (long)(options.PingInterval.TotalSeconds * Stopwatch.Frequency);
            NodeLog.WorkerConnected(logger, slot.LocalId, hello.ProcessId, hello.Capacity);
            if (_paused) slot.Session.Send<object?>(IpcMessageType.Pause, null, null);
            return slot.Session;
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Tick, time);
        try
        {
            do
            {
                try
                {
                    Step();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    NodeLog.IpcProblem(logger, $"supervision step failed: {ex.Message}");
                }
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass: start what is due, kill what hangs, ping what runs. <see cref="RunAsync"/> makes one every 100 ms.</summary>
    internal void Step()
    {
        var now = time.GetUtcNow();
        var ticks = time.GetTimestamp();
        lock (_lock)
        {
            if (_stopped) return;
            foreach (var slot in _workers)
            {
                switch (slot.State)
                {
                    case ManagedWorkerStates.Restarting when now >= slot.RestartAt && slot.Process is null:
                        slot.State = ManagedWorkerStates.Starting;
                        slot.StartedAt = now;
                        slot.Pid = null;
                        _ = SpawnAsync(slot);
                        break;
                    case ManagedWorkerStates.Starting when slot.Process is not null && now - slot.StartedAt > options.StartTimeout:
                        Kill(slot, $"did not connect within {options.StartTimeout.TotalSeconds:0.#}s");
                        break;
                    case ManagedWorkerStates.Running when slot.Session is { } session && !slot.PingInFlight && ticks >= slot.NextPingAt:
                        slot.PingInFlight = true;
                        _ = PingAsync(slot, session);
                        break;
                }
            }
        }
    }

    private async Task PingAsync(ManagedWorker slot, WorkerSession session)
    {
        using var timeout = new CancellationTokenSource(options.PingTimeout, time);
        var ok = false;
        try
        {
            await session.Connection.RequestAsync<object?, bool>(IpcMessageType.Ping, null, null, static (ref FrameReader _) => true, timeout.Token).ConfigureAwait(false);
            ok = true;
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            ok = true; // The connection closed: the exit, not the ping, tells.
        }
        lock (_lock)
        {
            slot.PingInFlight = false;
            slot.NextPingAt = time.GetTimestamp() + (long)(options.PingInterval.TotalSeconds * Stopwatch.Frequency);
            if (!ok && slot.Session == session) Kill(slot, $"did not answer a ping within {options.PingTimeout.TotalSeconds:0.#}s");
        }
    }

    internal const string WorkerGen0Variable = "DOTNET_GCgen0size";
    internal const string WorkerGen0Budget = "200000";

    private async Task SpawnAsync(ManagedWorker slot)
    {
        var info = new ProcessStartInfo(options.WorkerCommand[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in options.WorkerCommand.Skip(1)) info.ArgumentList.Add(arg);
        foreach (var arg in new[] { "worker", "--node-socket", options.SocketPath, "--local-id", Text(slot.LocalId), "--node-pid", Text(Environment.ProcessId) })
            info.ArgumentList.Add(arg);
        foreach (var arg in options.WorkerArguments) info.ArgumentList.Add(arg);
        // A 2 MiB gen0 budget (hexadecimal), unless the node's environment sets one: after a burst of jobs a worker keeps
        // 10 MiB less (JIT; a Native AOT gantry has it built in) for a few percent more CPU.
        info.Environment.TryAdd(WorkerGen0Variable, WorkerGen0Budget);
        Process process;
        try
        {
            process = await spawner.StartAsync(info, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            NodeLog.SpawnFailed(logger, slot.LocalId, ex.Message);
            Exited(slot, null, $"could not be started: {ex.Message}");
            return;
        }
        var prefix = $"w{slot.LocalId} | ";
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && options.RelayWorkerOutput) Console.Out.WriteLine(prefix + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && options.RelayWorkerOutput) Console.Error.WriteLine(prefix + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            slot.Process = process;
            slot.Pid = process.Id;
            slot.KilledBecause = null;
            _watchers.RemoveAll(t => t.IsCompleted);
            _watchers.Add(WatchAsync(slot, process));
        }
        NodeLog.WorkerSpawned(logger, slot.LocalId, process.Id);
    }

    private async Task WatchAsync(ManagedWorker slot, Process process)
    {
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        // Reports the worker wrote before it died may still be in the socket: let the read loop get to them.
        if (slot.Session is { } session)
            await session.Connection.Closed.WaitAsync(TimeSpan.FromSeconds(2), time).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        var (code, pid) = (process.ExitCode, process.Id);
        var what = code > 128 && code < 160 ? $"was killed by signal {code - 128} (exit code {code})" : $"exited with code {code}";
        process.Dispose();
        Exited(slot, pid, what);
    }

    /// <summary>The slot's process is gone: end its jobs, then restart it, give up on it, or let it go.</summary>
    private void Exited(ManagedWorker slot, int? pid, string what)
    {
        List<JobReport> reports = [];
        lock (_lock)
        {
            var session = slot.Session;
            var uptime = time.GetUtcNow() - (slot.StartedAt ?? time.GetUtcNow());
            if (slot.KilledBecause is { } why) what = $"was killed: it {why}";
            slot.Process = null;
            slot.Session = null;
            slot.PingInFlight = false;
            if (session is not null)
            {
                var lost = session.End($"{options.NodeId}/w{slot.LocalId} (pid {pid})", what, requeueStarted: _stopped);
                reports = lost.Reports;
                if (reports.Count > 0) NodeLog.JobsLost(logger, slot.LocalId, lost.Failed, lost.Requeued);
                _ = session.Connection.DisposeAsync().AsTask();
            }
            if (slot.Retiring || _stopped)
            {
                slot.State = ManagedWorkerStates.Stopped;
                if (slot.KilledBecause is not null) slot.LastError = what;
                NodeLog.WorkerStopped(logger, slot.LocalId, pid ?? 0);
            }
            else
            {
                slot.LastError = what;
                var decision = _restarts.AfterExit(slot.History, time.GetUtcNow(), uptime);
                if (decision.GiveUp)
                {
                    slot.State = ManagedWorkerStates.Failed;
                    NodeLog.WorkerFailed(logger, slot.LocalId, pid ?? 0, what, slot.Restarts, options.RestartWindow.TotalSeconds);
                    if (!_workers.Any(w => w.IsLive)) NodeLog.AllWorkersFailed(logger, options.NodeId);
                }
                else
                {
                    slot.Restarts++;
                    slot.State = ManagedWorkerStates.Restarting;
                    slot.RestartAt = time.GetUtcNow() + decision.Delay;
                    NodeLog.WorkerRestarting(logger, slot.LocalId, pid ?? 0, what, slot.Restarts, decision.Delay.TotalSeconds);
                }
            }
        }
        if (reports.Count > 0) _ = upstream.ReportAsync(reports);
    }

    /// <summary>Tells every connected worker to give its running jobs back now, even one already draining (a second Ctrl-C).</summary>
    public void GiveBackNow()
    {
        lock (_lock)
            foreach (var slot in _workers)
                if (slot.Process is not null && slot.Session is not null) Retire(slot, graceful: false);
    }

    /// <param name="graceful">False: the worker gives its running jobs back at once instead of draining them.</param>
    private void Retire(ManagedWorker slot, bool graceful = true)
    {
        slot.Retiring = true;
        if (slot.Process is null)
        {
            slot.State = ManagedWorkerStates.Stopped;
            return;
        }
        slot.State = ManagedWorkerStates.Draining;
        slot.Session?.Send(IpcMessageType.Shutdown, graceful, static (w, g) => w.Bool(g));
    }

    private void Kill(ManagedWorker slot, string why)
    {
        if (slot.Process is not { } process) return;
        slot.KilledBecause ??= why;
        NodeLog.WorkerKilled(logger, slot.LocalId, slot.Pid ?? 0, why);
        try { process.Kill(entireProcessTree: true); } catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    /// <summary>
    /// Stops every worker: a graceful shutdown (each drains up to its drain timeout, then requeues
    /// what is left), then a kill for any still there after <paramref name="patience"/>.
    /// </summary>
    public async Task StopAllAsync(TimeSpan patience, CancellationToken ct, bool graceful = true)
    {
        List<Task> watchers;
        lock (_lock)
        {
            _stopped = true;
            foreach (var slot in _workers)
            {
                if (slot.Process is null) { if (slot.State != ManagedWorkerStates.Failed) slot.State = ManagedWorkerStates.Stopped; continue; }
                Retire(slot, graceful);
                // One that has not connected yet cannot be told; it is killed.
                if (slot.Session is null) Kill(slot, "was starting while the node stopped");
            }
            watchers = [.. _watchers];
        }
        try
        {
            await Task.WhenAll(watchers).WaitAsync(patience, time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_lock)
                foreach (var slot in _workers) Kill(slot, $"was still running {patience.TotalSeconds:0.#}s after the node asked it to stop");
            await Task.WhenAll(watchers).WaitAsync(TimeSpan.FromSeconds(10), time, ct).ConfigureAwait(false);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _stopped = true;
            foreach (var slot in _workers) Kill(slot, "was running when the node was disposed");
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
