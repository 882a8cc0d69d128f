using System.Collections.Concurrent;
using Gantry.Handlers;
using Gantry.Storage;
using Gantry.Time;

namespace Gantry.Worker.Execution;

public sealed partial class GantryWorker
{
    /// <summary>Cancels that named a job not yet known here (the claim still on its way); applied when it arrives.</summary>
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _earlyCancels = new();
    private static readonly TimeSpan EarlyCancelMemory = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan IdleCommandPollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LeaseGuardTick = TimeSpan.FromMilliseconds(100);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _paused;

    /// <summary>Completes when a drain command has stopped this worker: its process should exit.</summary>
    public Task Drained => _drained.Task;

    /// <summary>True while paused: nothing new is claimed.</summary>
    public bool IsPaused => _paused;

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.EffectiveHeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    var (held, claims) = _held.Snapshot();
                    var sentAt = _leases.Now();
                    var result = await _link.HeartbeatAsync(new WorkerHeartbeatParams(Id, _options.LeaseDuration, held, Claims: claims), ct).ConfigureAwait(false);
                    _leases.Renewed(sentAt);
                    _held.Confirmed(claims);
                    _outage.Ok();
                    Apply(result.Commands);
                    foreach (var lost in result.LostJobs) Lose(lost);
                    ForgetOldEarlyCancels();
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    _outage.Failed("heartbeat", ex);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Stops every attempt whose lease could not be renewed before it runs out (the store or the
    /// server unreachable): the handler's token fires, a process handler's tree is killed within
    /// the kill grace, a checkpoint is taken where the handler offers one, and nothing is reported:
    /// the coordinator gives the job to another worker once the lease has expired.
    /// </summary>
    private async Task LeaseGuardLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(LeaseGuardTick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (!_leases.Expiring || (_running.IsEmpty && _slots.Buffered == 0)) continue;
                var stopped = 0;
                foreach (var attempt in _running.Values)
                {
                    if (attempt.Context.CancelReason != CancelReason.None) continue;
                    _held.Release(attempt.Key);
                    attempt.Context.Cancel(CancelReason.LeaseLost, keepCheckpoint: true);
                    stopped++;
                }
                foreach (var job in _slots.TakeBuffered())
                {
                    _held.Release(new JobLease(job.Id, job.Attempt));
                    stopped++;
                }
                if (stopped > 0) WorkerLog.LeasesRunningOut(_logger, stopped, _leases.Unrenewed.TotalSeconds, _options.LeaseDuration.TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task CommandLoopAsync(CancellationToken ct)
    {
        var errorDelay = TimeSpan.Zero;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // Busy, cancels must land within a second; idle, only drain/pause/resume can come, so look less often.
                var idle = _running.IsEmpty && _slots.Buffered == 0;
                await _link.WaitForCommandsAsync(idle ? IdleCommandPollInterval : _options.CommandPollInterval, ct).ConfigureAwait(false);
                Apply(await _link.TakeCommandsAsync(Id, ct).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Backs off while the store is unreachable, so an outage is not logged four times a second.
                errorDelay = errorDelay == TimeSpan.Zero ? _options.CommandPollInterval : RetryPause.After(errorDelay);
                _outage.Failed("commands", ex);
                try { await Task.Delay(errorDelay, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                continue;
            }
            errorDelay = TimeSpan.Zero;
        }
    }

    private void Apply(IReadOnlyList<WorkerCommand> commands)
    {
        foreach (var command in commands)
        {
            switch (command.Kind)
            {
                case WorkerCommandKind.Pause:
                    WorkerLog.Command(_logger, Id, "paused: claiming nothing until resumed");
                    _paused = true;
                    continue;
                case WorkerCommandKind.Resume:
                    WorkerLog.Command(_logger, Id, "resumed");
                    _paused = false;
                    _slotFreed.Set();
                    continue;
                case WorkerCommandKind.Drain:
                    WorkerLog.Command(_logger, Id, "draining: finishing running jobs, then stopping");
                    StopOnCommand(_options.DrainTimeout);
                    continue;
                case WorkerCommandKind.Shutdown:
                    WorkerLog.Command(_logger, Id, "shutting down: giving back running jobs, then stopping");
                    StopOnCommand(TimeSpan.Zero);
                    continue;
            }
            if (command is not { Kind: WorkerCommandKind.CancelJob or WorkerCommandKind.CancelJobNow, JobId: { } id }) continue;
            var now = command.Kind == WorkerCommandKind.CancelJobNow;
            var found = false;
            foreach (var attempt in _running.Values.Where(a => a.Key.JobId == id))
            {
                WorkerLog.CancelRequested(_logger, id);
                found = true;
                if (!now)
                {
                    attempt.Context.Cancel(CancelReason.UserCancelled);
                    continue;
                }
                // No grace: the token fires, what the handler started is killed, and the attempt ends without
                // waiting for the handler (as the grace timer would end it), cancelled unless another reason came first.
                attempt.Context.Abandon(CancelReason.UserCancelled);
                End(attempt, Ended(attempt.Context, null), abandoned: true);
            }
            if (_slots.TryRemoveBuffered(id, out var buffered)) found = CancelBeforeStart(buffered);
            if (!found) _earlyCancels[id] = _time.GetUtcNow();
        }
    }

    private void StopOnCommand(TimeSpan drainTimeout) => _ = Task.Run(async () =>
    {
        await StopAsync(drainTimeout, CancellationToken.None).ConfigureAwait(false);
        _drained.TrySetResult();
    });

    /// <summary>The store says an attempt is no longer ours: stop it without reporting.</summary>
    private void Lose(JobLease lost)
    {
        _held.Release(lost);
        if (_running.TryGetValue(lost, out var attempt))
        {
            WorkerLog.LeaseLost(_logger, lost.JobId, lost.Attempt);
            attempt.Context.Cancel(CancelReason.LeaseLost);
        }
        else if (_slots.TryRemoveBuffered(lost.JobId, out _))
        {
            WorkerLog.LeaseLost(_logger, lost.JobId, lost.Attempt);
        }
    }

    private void ForgetOldEarlyCancels()
    {
        var cutoff = _time.GetUtcNow() - EarlyCancelMemory;
        foreach (var (id, at) in _earlyCancels)
            if (at < cutoff) _earlyCancels.TryRemove(id, out _);
    }
}
