using System.Collections.Concurrent;
using Gantry.Handlers;
using Gantry.Storage;
using Gantry.Worker.Coordination;

namespace Gantry.Worker.Execution;

/// <summary>The coordinator's commands and lease verdicts, as its <see cref="CoordinatorSession"/> hands them to the worker.</summary>
public sealed partial class GantryWorker : ISessionOwner
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a drain command has stopped this worker: its process should exit.</summary>
    public Task Drained => _drained.Task;

    /// <summary>True while paused: nothing new is claimed.</summary>
    public bool IsPaused => _paused;

    void ISessionOwner.Pause()
    {
        WorkerLog.Command(_logger, Id, "paused: claiming nothing until resumed");
        _paused = true;
    }

    void ISessionOwner.Resume()
    {
        WorkerLog.Command(_logger, Id, "resumed");
        _paused = false;
        _slotFreed.Set();
    }

    void ISessionOwner.Drain()
    {
        WorkerLog.Command(_logger, Id, "draining: finishing running jobs, then stopping");
        StopOnCommand(_options.DrainTimeout);
    }

    void ISessionOwner.Shutdown()
    {
        WorkerLog.Command(_logger, Id, "shutting down: giving back running jobs, then stopping");
        StopOnCommand(TimeSpan.Zero);
    }

    void ISessionOwner.Cancel(Guid id, bool now)
    {
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
        if (found) return;
        ForgetOldEarlyCancels();
        _earlyCancels[id] = _time.GetUtcNow();
    }

    private void StopOnCommand(TimeSpan drainTimeout) => _ = Task.Run(async () =>
    {
        await StopAsync(drainTimeout, CancellationToken.None).ConfigureAwait(false);
        _drained.TrySetResult();
    });

    /// <summary>The store says an attempt is no longer ours: stop it without reporting.</summary>
    void ISessionOwner.Lose(JobLease lost)
    {
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

    /// <summary>
    /// Stops every attempt whose lease could not be renewed before it runs out (the store or the server
    /// unreachable): the handler's token fires, a process handler's tree is killed within the kill grace, a
    /// checkpoint is taken where the handler offers one, and nothing is reported: the coordinator gives the job
    /// to another worker once the lease has expired.
    /// </summary>
    IReadOnlyCollection<JobLease> ISessionOwner.StopUnrenewed(TimeSpan unrenewed)
    {
        var stopped = new List<JobLease>();
        foreach (var attempt in _running.Values)
        {
            if (attempt.Context.CancelReason != CancelReason.None) continue;
            stopped.Add(attempt.Key);
            attempt.Context.Cancel(CancelReason.LeaseLost, keepCheckpoint: true);
        }
        foreach (var job in _slots.TakeBuffered()) stopped.Add(new JobLease(job.Id, job.Attempt));
        if (stopped.Count > 0) WorkerLog.LeasesRunningOut(_logger, stopped.Count, unrenewed.TotalSeconds, _options.LeaseDuration.TotalSeconds);
        return stopped;
    }

    /// <summary>A worker offers the same throughout.</summary>
    WorkerRegistration? ISessionOwner.Reregistration() => null;

    IReadOnlyList<ManagedWorkerInfo>? ISessionOwner.Managed() => null;

    private void ForgetOldEarlyCancels()
    {
        var cutoff = _time.GetUtcNow() - EarlyCancelMemory;
        foreach (var (id, at) in _earlyCancels)
            if (at < cutoff) _earlyCancels.TryRemove(id, out _);
    }
}
