using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Telemetry;
using Gantry.Worker.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Execution;

public sealed partial class GantryWorker
{
    /// <summary>Starts a job that has a slot, on its own thread-pool work item.</summary>
    private void Run(ClaimedJob job)
    {
        var handling = _handling.GetOrAdd(job.Type, static (name, worker) => worker.HandlingOf(name), this);
        var attempt = new RunningAttempt(handling, job, _time.GetTimestamp());
        _running[attempt.Key] = attempt;
        if (GantryMetrics.QueueWait.Enabled)
            GantryMetrics.QueueWait.Record(Math.Max(0, (_time.GetUtcNow() - job.DueAt).TotalSeconds), new KeyValuePair<string, object?>("queue", job.Queue));
        _link.JobStarted(attempt.Key);
        ThreadPool.UnsafeQueueUserWorkItem(attempt, preferLocal: false);
    }

    /// <summary>How the jobs of a type are handled, found once per type.</summary>
    private JobHandling HandlingOf(string name)
    {
        var handler = _registry.TryGet(name, out var registration) ? registration : null;
        var checkpoints = new CheckpointSettings(handler?.CheckpointInterval ?? _options.CheckpointInterval, _options.MaxCheckpointBytes);
        return new JobHandling(this, handler, handler is not null && _registry.NeedsScope(handler), new AttemptSettings(_loggers.CreateLogger($"Gantry.Jobs.{name}"), _reports.Add, _reports.AddAndWaitAsync, _time,
            _options.ProgressInterval, checkpoints));
    }

    /// <summary>A job type's handler (null when this worker has none for it), whether each job of it has a DI scope of its
    /// own (<see cref="HandlerScopes"/>), and what its attempts share.</summary>
    private sealed record JobHandling(GantryWorker Worker, HandlerRegistration? Handler, bool Scoped, AttemptSettings Attempts);

    private async Task RunAsync(RunningAttempt attempt)
    {
        var context = attempt;
        var job = context.Job;
        // Current while the handler runs: what it does joins the trace of the enqueue.
        attempt.Span = AttemptTracing.StartRun(job);
        if (attempt.Handling.Handler is not { } handler)
        {
            WorkerLog.NoHandler(_logger, job.Type, job.Id, string.Join(", ", _jobTypes));
            End(attempt, Failure(context, new JobError(JobErrorKinds.Exception, $"worker {Id} has no handler for job type '{job.Type}'"), retryable: true), abandoned: false);
            return;
        }
        if ((job.Timeout ?? handler.DefaultTimeout ?? _options.DefaultJobTimeout) is { } timeout) context.CancelAfter(timeout);

        JobReport? report;
        try
        {
            string? result;
            if (attempt.Handling.Scoped)
            {
                await using var scope = _services.CreateAsyncScope();
                result = await handler.Invoke(scope.ServiceProvider, context, _json).ConfigureAwait(false);
            }
            else result = await handler.Invoke(_services, context, _json).ConfigureAwait(false);
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
        if (!attempt.TryEnd()) return; // The other path (handler or grace timer) ended it already.
        attempt.GraceTimer?.Dispose();
        var context = attempt;
        context.Finish();
        var ran = _time.GetElapsedTime(attempt.StartedAt);
        // Before the outcome is queued: the write that carries it is the one that frees the job's slot in the store.
        var mayClaim = _slots.Finished(context.Job.Id, context.Queue, ran, reported: report is { EndsAttempt: true });
        // A requeued attempt does not count (the next claim reuses its number), so neither does what it used.
        if (report is not (null or JobRequeuedReport) && UsageOf(context) is { } usage)
        {
            _reports.Add(new JobUsageReport(report.JobId, report.Attempt, report.WorkerId, usage));
            JobMetrics.Used(context.Job, usage);
        }
        if (report is not null) _reports.Add(report);
        _running.TryRemove(attempt.Key, out _);
        var outcome = JobMetrics.Ended(context.Job, report, ran);
        _tally.Add(outcome);
        GantryTracing.Ended(attempt.Span, outcome, (report as JobFailedReport)?.Error);
        attempt.MarkDone();
        // An abandoned handler may still touch its context; leave that one to the GC.
        if (!abandoned) context.Dispose();
        StartReady();
        if (mayClaim) _slotFreed.Set();
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

    /// <summary>An attempt being run: the context its handler sees, with what the worker keeps about it; also the
    /// thread-pool work item that runs it. It ends once: by its handler returning, or by the grace period passing after
    /// its token fired (the handler is then abandoned).</summary>
    private sealed class RunningAttempt(JobHandling handling, ClaimedJob job, long startedAt)
        : WorkerJobContext(job, handling.Attempts), IThreadPoolWorkItem
    {
        private int _ended;
        private int _done;
        private TaskCompletionSource? _doneSource;
        public JobHandling Handling { get; } = handling;
        public GantryWorker Worker => Handling.Worker;
        public JobLease Key { get; } = new(job.Id, job.Attempt);
        /// <summary>The context its handler sees: the attempt itself.</summary>
        public WorkerJobContext Context => this;
        public long StartedAt { get; } = startedAt;
        public ITimer? GraceTimer { get; private set; }
        /// <summary>The attempt's span (<see cref="AttemptTracing.StartRun"/>), when traces are listened to.</summary>
        public System.Diagnostics.Activity? Span { get; set; }
        public bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;
        public bool IsEnded => Volatile.Read(ref _ended) != 0;

        void IThreadPoolWorkItem.Execute() => _ = Worker.RunAsync(this);

        /// <summary>The token fired: the handler has the grace period to stop; after it the attempt is ended without it,
        /// so that even a handler blocking its thread cannot hold the slot.</summary>
        protected override void Cancelled()
        {
            if (IsEnded) return;
            var grace = Worker._options.CancelGracePeriod;
            GraceTimer = Worker._time.CreateTimer(static s =>
            {
                var attempt = (RunningAttempt)s!;
                var worker = attempt.Worker;
                WorkerLog.HandlerAbandoned(worker._logger, attempt.JobId, attempt.Attempt, attempt.CancelReason.ToString(), worker._options.CancelGracePeriod.TotalSeconds);
                worker.End(attempt, worker.Ended(attempt, null), abandoned: true);
            }, this, grace, Timeout.InfiniteTimeSpan);
            // Ended meanwhile: End may have looked for the timer before it was set.
            if (IsEnded) GraceTimer.Dispose();
        }

        /// <summary>Completes once the attempt's end is all done (outcome queued, slot freed). Made only for a shutdown that
        /// waits for it: both sides write first and read second with full fences, so neither misses the other.</summary>
        public Task Done
        {
            get
            {
                if (Volatile.Read(ref _done) != 0) return Task.CompletedTask;
                var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var source = Interlocked.CompareExchange(ref _doneSource, made, null) ?? made;
                if (Volatile.Read(ref _done) != 0) source.TrySetResult();
                return source.Task;
            }
        }

        public void MarkDone()
        {
            Interlocked.Exchange(ref _done, 1);
            Volatile.Read(ref _doneSource)?.TrySetResult();
        }
    }

    /// <summary>The attempts running, by lease. A dictionary under a lock rather than a concurrent one: it reuses its
    /// entries, where a concurrent dictionary makes a node per attempt; each call holds the lock for a lookup.</summary>
    private sealed class RunningAttempts
    {
        private readonly Dictionary<JobLease, RunningAttempt> _byLease = [];

        public RunningAttempt this[JobLease lease]
        {
            set { lock (_byLease) _byLease[lease] = value; }
        }

        public bool TryGetValue(JobLease lease, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out RunningAttempt attempt)
        {
            lock (_byLease) return _byLease.TryGetValue(lease, out attempt);
        }

        public bool TryRemove(JobLease lease, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out RunningAttempt attempt)
        {
            lock (_byLease) return _byLease.Remove(lease, out attempt);
        }

        public bool IsEmpty => Count == 0;

        public int Count
        {
            get { lock (_byLease) return _byLease.Count; }
        }

        /// <summary>The attempts running now (a copy: safe to end them while walking it).</summary>
        public RunningAttempt[] Values
        {
            get { lock (_byLease) return [.. _byLease.Values]; }
        }
    }
}
