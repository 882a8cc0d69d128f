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
                GiveBackStale();
                var plan = _slots.Plan();
                if (plan.Wanted == 0 || _paused)
                {
                    // Until a slot frees (or a queue taken as empty is due for another look).
                    await _slotFreed.WaitAsync(_paused ? TimeSpan.FromSeconds(1) : plan.Recheck, ct).ConfigureAwait(false);
                    continue;
                }
                var claimStarted = _time.GetTimestamp();
                var claimStartedAt = DateTimeOffset.UtcNow;
                var jobs = await _session.ClaimAsync(
                    new JobClaimParams(Id, plan.Demands, _options.LeaseDuration, _options.Capabilities, _jobTypes), plan.MayWait, ct).ConfigureAwait(false);
                if (jobs.Count > 0)
                {
                    GantryMetrics.ClaimDuration.Record(_time.GetElapsedTime(claimStarted).TotalSeconds);
                    GantryMetrics.ClaimSize.Record(jobs.Count);
                }
                AttemptTracing.Claimed(jobs, claimStartedAt, Id, _link.Description);
                errorDelay = TimeSpan.FromMilliseconds(100);
                Accept(jobs);
                // Every queue came back short and none is busy: nothing to do but wait for new work (or the poll
                // interval). With a busy queue the loop goes on: its freed slots are the next claim, and the
                // queues that came back short are asked along, but do not trigger a claim, until the poll interval.
                if (_slots.Claimed(plan, jobs) && plan.MayWait)
                {
                    await _link.WaitForJobsAsync(_options.PollInterval, ct).ConfigureAwait(false);
                    _slots.Undrain();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _session.Outage.Failed("claim", ex);
                try { await Task.Delay(errorDelay, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                errorDelay = RetryPause.After(errorDelay);
            }
        }
    }

    /// <summary>Reports that end attempts were written: a queue a flow limit held back is asked again at once when this
    /// worker's own ended jobs freed room in it.</summary>
    private void SlotsWritten(IReadOnlyList<JobReport> written)
    {
        if (_slots.ReportsWritten(written)) _slotFreed.Set();
    }

    /// <summary>Gives back to the queue (without counting an attempt) buffered jobs that cannot start soon.</summary>
    private void GiveBackStale()
    {
        var stale = _slots.TakeStale();
        if (stale.Count == 0) return;
        WorkerLog.GaveBack(_logger, stale.Count, JobSlots.StaleAfter.TotalMilliseconds);
        foreach (var job in stale) _reports.Add(new JobRequeuedReport(job.Id, job.Attempt, job.WorkerId));
    }

    /// <summary>Takes claimed jobs in: cancelled ones end at once, the others wait for a slot.</summary>
    private void Accept(IReadOnlyList<ClaimedJob> jobs)
    {
        if (jobs.Count == 0) return;
        var kept = jobs;
        if (!_earlyCancels.IsEmpty)
        {
            ForgetOldEarlyCancels();
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
