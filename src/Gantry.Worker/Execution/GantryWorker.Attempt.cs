using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Telemetry;
using Gantry.Worker.Handlers;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Execution;

public sealed partial class GantryWorker
{
    /// <summary>Starts a job that has a slot, on its own thread-pool work item.</summary>
    private void Run(ClaimedJob job)
    {
        var logger = _jobLoggers.GetOrAdd(job.Type, static (type, loggers) => loggers.CreateLogger($"Gantry.Jobs.{type}"), _loggers);
        var checkpointEvery = _registry.TryGet(job.Type, out var handler) && handler.CheckpointInterval is { } typeInterval ? typeInterval : _options.CheckpointInterval;
        var context = new WorkerJobContext(job, logger, _reports.Add, _time, _options.ProgressInterval,
            _reports.AddAndWaitAsync, new CheckpointSettings(checkpointEvery, _options.MaxCheckpointBytes));
        var attempt = new RunningAttempt(new JobLease(job.Id, job.Attempt), context, _time.GetTimestamp());
        _running[attempt.Key] = attempt;
        if (GantryMetrics.QueueWait.Enabled)
            GantryMetrics.QueueWait.Record(Math.Max(0, (_time.GetUtcNow() - job.DueAt).TotalSeconds), new KeyValuePair<string, object?>("queue", job.Queue));
        _link.JobStarted(attempt.Key);
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Worker.RunAsync(state.Attempt), (Worker: this, Attempt: attempt), preferLocal: false);
    }

    private async Task RunAsync(RunningAttempt attempt)
    {
        var context = attempt.Context;
        var job = context.Job;
        // Current while the handler runs: what it does joins the trace of the enqueue.
        attempt.Span = GantryTracing.StartRun(job);
        if (!_registry.TryGet(job.Type, out var handler))
        {
            WorkerLog.NoHandler(_logger, job.Type, job.Id, string.Join(", ", _jobTypes));
            End(attempt, Failure(context, new JobError(JobErrorKinds.Exception, $"worker {Id} has no handler for job type '{job.Type}'"), retryable: true), abandoned: false);
            return;
        }
        if ((job.Timeout ?? handler.DefaultTimeout ?? _options.DefaultJobTimeout) is { } timeout) context.CancelAfter(timeout);

        // When the token fires, the handler has the grace period to stop; after it the attempt is
        // ended without it, so that even a handler blocking its thread cannot hold the slot.
        using var watchdog = context.CancellationToken.UnsafeRegister(static state =>
        {
            var (worker, attempt) = ((GantryWorker, RunningAttempt))state!;
            attempt.GraceTimer = worker._time.CreateTimer(static s =>
            {
                var (w, a) = ((GantryWorker, RunningAttempt))s!;
                WorkerLog.HandlerAbandoned(w._logger, a.Key.JobId, a.Key.Attempt, a.Context.CancelReason.ToString(), w._options.CancelGracePeriod.TotalSeconds);
                w.End(a, w.Ended(a.Context, null), abandoned: true);
            }, state, worker._options.CancelGracePeriod, Timeout.InfiniteTimeSpan);
        }, (this, attempt));

        JobReport? report;
        try
        {
            await using var scope = _services.CreateAsyncScope();
            var result = await handler.Invoke(scope.ServiceProvider, context, _json).ConfigureAwait(false);
            report = new JobSucceededReport(job.Id, job.Attempt, job.WorkerId, result);
        }
        catch (Exception ex)
        {
            report = Ended(context, ex);
        }
        End(attempt, report, abandoned: false);
    }

    /// <summary>Ends an attempt once: reports its outcome, frees its slot and starts what waits for one.</summary>
    private void End(RunningAttempt attempt, JobReport? report, bool abandoned)
    {
        if (!attempt.TryEnd()) return; // The other path (handler or watchdog) ended it already.
        attempt.GraceTimer?.Dispose();
        var context = attempt.Context;
        context.Finish();
        // A requeued attempt does not count (the next claim reuses its number), so neither does what it used.
        if (report is not (null or JobRequeuedReport) && UsageOf(context) is { } usage)
        {
            _reports.Add(new JobUsageReport(report.JobId, report.Attempt, report.WorkerId, usage));
            JobMetrics.Used(context.Job, usage);
        }
        if (report is not null) _reports.Add(report);
        _running.TryRemove(attempt.Key, out _);
        var ran = _time.GetElapsedTime(attempt.StartedAt);
        _slots.Finished(context.Queue, ran);
        var outcome = JobMetrics.Ended(context.Job, report, ran);
        _tally.Add(outcome);
        GantryTracing.Ended(attempt.Span, outcome, (report as JobFailedReport)?.Error);
        attempt.Done.TrySetResult();
        // An abandoned handler may still touch its context; leave that one to the GC.
        if (!abandoned) context.Dispose();
        StartReady();
        _slotFreed.Set();
    }

    /// <summary>
    /// A process handler's usage with how the attempt ended: a limit the tree hit stands; else a
    /// timeout, or a cancel or shutdown, that stopped the attempt is its outcome rather than the
    /// signal the program died of.
    /// </summary>
    private static AttemptUsage? UsageOf(WorkerJobContext context) => context.Usage is not { } usage ? null
        : usage.Outcome == AttemptOutcomes.LimitHit ? usage
        : context.CancelReason switch
        {
            CancelReason.Timeout => usage with { Outcome = AttemptOutcomes.Timeout },
            CancelReason.UserCancelled or CancelReason.Shutdown => usage with { Outcome = AttemptOutcomes.Cancelled },
            _ => usage,
        };

    /// <summary>The report for an attempt that did not return: by why it was cancelled, else by its exception.</summary>
    private JobReport? Ended(WorkerJobContext context, Exception? ex)
    {
        var job = context.Job;
        switch (context.CancelReason)
        {
            case CancelReason.UserCancelled:
                return new JobCancelledReport(job.Id, job.Attempt, job.WorkerId);
            case CancelReason.Shutdown:
                return new JobRequeuedReport(job.Id, job.Attempt, job.WorkerId);
            case CancelReason.LeaseLost:
                return null; // Not ours any more: another attempt, or the user, owns the outcome.
            case CancelReason.Timeout:
                var timeout = context.EffectiveTimeout ?? TimeSpan.Zero;
                var how = ex is null ? $"; the handler ignored cancellation for {_options.CancelGracePeriod.TotalSeconds:0.#}s and was abandoned" : "";
                return Failure(context, new JobError(JobErrorKinds.Timeout, $"timed out after {timeout.TotalSeconds:0.###}s{how}"), retryable: true);
            default:
                var error = ex is null ? new JobError(JobErrorKinds.Exception, "the handler did not finish") : JobError.FromException(ex);
                WorkerLog.JobFailed(_logger, job.Id, job.Attempt, error.Message);
                if (ex is null) return Failure(context, error, retryable: true);
                var (retryable, retryAfter) = HandlerFailure.Of(ex);
                return Failure(context, error, retryable, retryAfter);
        }
    }

    private JobFailedReport Failure(WorkerJobContext context, JobError error, bool retryable, TimeSpan? retryAfter = null)
    {
        var job = context.Job;
        var (next, runAt) = RetryPolicy.AfterFailure(job.Attempt, job.MaxAttempts, job.Backoff, _time.GetUtcNow(), Random.Shared, retryable, retryAfter);
        return new JobFailedReport(job.Id, job.Attempt, job.WorkerId, error, next, runAt);
    }
}
