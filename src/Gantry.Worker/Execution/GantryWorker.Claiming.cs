using Gantry.Storage;
using Gantry.Telemetry;
using Gantry.Time;

namespace Gantry.Worker.Execution;

public sealed partial class GantryWorker
{
    private async Task FetchLoopAsync(CancellationToken ct)
    {
        var errorDelay = TimeSpan.FromMilliseconds(100);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var demands = _slots.Demands(out var wanted);
                if (wanted == 0 || _paused)
                {
                    await _slotFreed.WaitAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                    continue;
                }
                var claimStarted = _time.GetTimestamp();
                var jobs = await _link.ClaimAsync(
                    new JobClaimParams(Id, demands, _options.LeaseDuration, _options.Capabilities, _jobTypes), ct).ConfigureAwait(false);
                if (jobs.Count > 0) GantryMetrics.ClaimDuration.Record(_time.GetElapsedTime(claimStarted).TotalSeconds);
                _held.Claimed(jobs);
                _outage.Ok();
                errorDelay = TimeSpan.FromMilliseconds(100);
                Accept(jobs);
                // Fewer than asked for: the queues are drained; sleep until new work is signalled or the poll interval passes.
                if (jobs.Count < wanted) await _link.WaitForJobsAsync(_options.PollInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _outage.Failed("claim", ex);
                try { await Task.Delay(errorDelay, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                errorDelay = RetryPause.After(errorDelay);
            }
        }
    }

    /// <summary>Takes claimed jobs in: cancelled ones end at once, the others wait for a slot.</summary>
    private void Accept(IReadOnlyList<ClaimedJob> jobs)
    {
        if (jobs.Count == 0) return;
        var kept = jobs;
        if (!_earlyCancels.IsEmpty)
        {
            kept = jobs.Where(j => !_earlyCancels.TryRemove(j.Id, out _) || !CancelBeforeStart(j)).ToArray();
        }
        _slots.AddClaimed(kept);
        StartReady();
    }

    /// <summary>Starts buffered jobs while slots are free. Called after a claim and whenever a job ends.</summary>
    private void StartReady()
    {
        while (_slots.TryStartNext(out var job)) Run(job);
    }

    /// <summary>Ends a claimed job that never started because it was cancelled.</summary>
    private bool CancelBeforeStart(ClaimedJob job)
    {
        WorkerLog.CancelRequested(_logger, job.Id);
        _reports.Add(new JobCancelledReport(job.Id, job.Attempt, job.WorkerId));
        return true;
    }
}
