using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Execution;

/// <summary>The context a handler sees; also holds the attempt's cancellation and progress throttle.</summary>
internal sealed class WorkerJobContext : JobContext, IDisposable
{
    private readonly ClaimedJob _job;
    private readonly Action<JobReport> _report;
    private readonly TimeProvider _time;
    private readonly TimeSpan _progressInterval;
    private readonly CancellationTokenSource _cts = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly AttemptLog _log;
    private readonly object _progressLock = new();
    private JsonDocument? _payload;
    private Dictionary<string, JsonElement>? _dependencies;
    private ITimer? _timeoutTimer;
    private int _cancelReason;
    private long _lastProgressAt = long.MinValue;
    private (double Percent, string? Message)? _pendingProgress;
    private bool _progressFlushScheduled;
    private bool _finished;
    private readonly Func<JobReport, Task<bool>> _reportAndWait;
    private readonly CheckpointSettings _checkpoints;
    private ICheckpointSource? _checkpointSource;
    private ITimer? _checkpointTimer;

    /// <param name="reportAndWait">Writes a report and says whether the store applied it; by default reports are only queued.</param>
    public WorkerJobContext(ClaimedJob job, ILogger logger, Action<JobReport> report, TimeProvider time, TimeSpan progressInterval,
        Func<JobReport, Task<bool>>? reportAndWait = null, CheckpointSettings? checkpoints = null)
    {
        _job = job;
        _log = new AttemptLog(logger, job, report, time, progressInterval);
        Logger = _log;
        _report = report;
        _time = time;
        _progressInterval = progressInterval;
        _reportAndWait = reportAndWait ?? (r => { report(r); return Task.FromResult(true); });
        _checkpoints = checkpoints ?? new CheckpointSettings(WorkerOptions.CheckpointIntervalDefault, WorkerOptions.MaxCheckpointBytesDefault);
    }

    /// <summary>What a process handler's attempt consumed and how its program ended; set by the handler before it returns or throws.</summary>
    public AttemptUsage? Usage { get; set; }

    // Spelled out: a null byte[] would otherwise convert to an empty (present) ReadOnlyMemory.
    public override ReadOnlyMemory<byte>? Checkpoint => _job.Checkpoint is { } bytes ? new ReadOnlyMemory<byte>(bytes) : (ReadOnlyMemory<byte>?)null;

    public override async ValueTask SaveCheckpointAsync(object? state)
    {
        var report = CheckpointReport(state);
        if (!await _reportAndWait(report).ConfigureAwait(false))
            WorkerLog.CheckpointRejected(Logger, _job.Id, _job.Attempt);
    }

    private JobCheckpointReport CheckpointReport(object? state)
    {
        var bytes = CheckpointBytes(state);
        if (bytes.Length > _checkpoints.MaxBytes)
            throw new InvalidOperationException($"the checkpoint is {bytes.Length:N0} bytes, over the limit of {_checkpoints.MaxBytes:N0} bytes");
        return new JobCheckpointReport(_job.Id, _job.Attempt, _job.WorkerId, bytes);
    }

    /// <summary>The handler can tell its state: ask it every interval, and before a graceful stop.</summary>
    public void UseCheckpointSource(ICheckpointSource source)
    {
        _checkpointSource = source;
        var interval = _job.CheckpointInterval ?? _checkpoints.Interval;
        _checkpointTimer = _time.CreateTimer(static s => ((WorkerJobContext)s!).CaptureCheckpoint(), this, interval, interval);
    }

    /// <summary>Asks the handler for its state and queues it as the checkpoint. Never throws: a failing capture is logged.</summary>
    private void CaptureCheckpoint()
    {
        if (_checkpointSource is not { } source || _finished) return;
        try
        {
            _report(CheckpointReport(source.CaptureCheckpoint()));
        }
        catch (Exception ex)
        {
            WorkerLog.CheckpointFailed(Logger, ex, _job.Id);
        }
    }

    public ClaimedJob Job => _job;
    public override Guid JobId => _job.Id;
    public override string Type => _job.Type;
    public override string Queue => _job.Queue;
    public override int Attempt => _job.Attempt;
    public override int MaxAttempts => _job.MaxAttempts;
    public override IReadOnlyDictionary<string, string> Tags => _job.Tags;
    public override JsonElement Payload => (_payload ??= JsonDocument.Parse(_job.Payload)).RootElement;
    // Parsed on first use: handlers of plain jobs never ask.
    public override IReadOnlyDictionary<string, JsonElement> DependencyResults => _dependencies ??= JsonElements.ParseAll(_job.Dependencies);
    public override CancellationToken CancellationToken => _cts.Token;
    public override CancelReason CancelReason => (CancelReason)Volatile.Read(ref _cancelReason);
    public override ILogger Logger { get; }

    /// <summary>Cancels the attempt; the first reason given wins. <paramref name="keepCheckpoint"/>: take one even for a lost lease
    /// (the lease is about to run out but is still this worker's).</summary>
    public void Cancel(CancelReason reason, bool keepCheckpoint = false)
    {
        if (Interlocked.CompareExchange(ref _cancelReason, (int)reason, (int)CancelReason.None) == (int)CancelReason.None)
        {
            // A graceful stop keeps the work done so far; a timeout or a lease already lost has nothing to keep.
            if (keepCheckpoint || reason is CancelReason.Shutdown or CancelReason.UserCancelled) CaptureCheckpoint();
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Fires when the attempt is abandoned without the cancel grace period (<c>cancel --now</c>): what the
    /// handler started (a process tree) is to be killed at once rather than asked to stop.</summary>
    public CancellationToken AbandonToken => _abandon.Token;

    /// <summary>Cancels with <paramref name="reason"/> (unless cancelled already) and fires <see cref="AbandonToken"/>.</summary>
    public void Abandon(CancelReason reason)
    {
        // Killed first: a process tree abandoned gets SIGKILL, not a SIGTERM it could act on.
        try { _abandon.Cancel(); } catch (ObjectDisposedException) { }
        Cancel(reason);
    }

    /// <summary>The timeout this attempt runs under (the job's, else its type's, else the worker's), if any.</summary>
    public TimeSpan? EffectiveTimeout { get; private set; }

    /// <summary>Cancels with <see cref="CancelReason.Timeout"/> after <paramref name="timeout"/>.</summary>
    public void CancelAfter(TimeSpan timeout)
    {
        EffectiveTimeout = timeout;
        // Timers reach about 49 days; a longer timeout is as good as none (and would throw, leaving the job running forever).
        if (timeout.TotalMilliseconds >= MaxTimerMilliseconds) return;
        // A timer stopped in Finish: a pending one would keep this context alive until the timeout.
        _timeoutTimer = _time.CreateTimer(static state => ((WorkerJobContext)state!).Cancel(CancelReason.Timeout), this, timeout, Timeout.InfiniteTimeSpan);
    }

    private const double MaxTimerMilliseconds = uint.MaxValue - 1.0;

    public override ValueTask ReportProgressAsync(double percent, string? message = null)
    {
        if (double.IsNaN(percent)) throw new ArgumentOutOfRangeException(nameof(percent), "percent must be a number");
        percent = Math.Clamp(percent, 0, 100);
        var now = _time.GetTimestamp();
        lock (_progressLock)
        {
            if (_finished) return ValueTask.CompletedTask;
            var since = _lastProgressAt == long.MinValue ? TimeSpan.MaxValue : _time.GetElapsedTime(_lastProgressAt, now);
            if (since >= _progressInterval)
            {
                _lastProgressAt = now;
                _pendingProgress = null;
                _report(new JobProgressReport(_job.Id, _job.Attempt, _job.WorkerId, percent, message));
                return ValueTask.CompletedTask;
            }
            // Too soon: keep the latest and write it once the interval has passed.
            _pendingProgress = (percent, message);
            if (!_progressFlushScheduled)
            {
                _progressFlushScheduled = true;
                _ = FlushProgressLaterAsync(_progressInterval - since);
            }
        }
        return ValueTask.CompletedTask;
    }

    private async Task FlushProgressLaterAsync(TimeSpan delay)
    {
        await Task.Delay(delay, _time).ConfigureAwait(false);
        lock (_progressLock)
        {
            _progressFlushScheduled = false;
            if (_finished || _pendingProgress is not { } p) return;
            _pendingProgress = null;
            _lastProgressAt = _time.GetTimestamp();
            _report(new JobProgressReport(_job.Id, _job.Attempt, _job.WorkerId, p.Percent, p.Message));
        }
    }

    /// <summary>No progress is written after the outcome.</summary>
    public void Finish()
    {
        _checkpointTimer?.Dispose();
        _log.Finish();
        lock (_progressLock) _finished = true;
        _timeoutTimer?.Dispose();
    }

    public void Dispose()
    {
        Finish();
        _payload?.Dispose();
        _cts.Dispose();
        _abandon.Dispose();
    }
}

/// <summary>How an attempt's checkpoints are taken: the default interval and the size limit.</summary>
internal sealed record CheckpointSettings(TimeSpan Interval, int MaxBytes);
