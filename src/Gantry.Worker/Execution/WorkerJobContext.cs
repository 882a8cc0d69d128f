using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Execution;

/// <summary>The context a handler sees; also holds the attempt's cancellation and progress throttle. The worker runs each
/// attempt as one of these with its own bookkeeping added (<c>GantryWorker.RunningAttempt</c>): one object per attempt.</summary>
/// <remarks>
/// One is made per attempt, so what a handler may never ask for is made on first use: the cancellation sources
/// (when the handler reads a token, or the attempt is cancelled), the attempt's log (when the handler logs), the
/// parsed payload, the progress lock. A no-op handler's attempt costs this object and nothing else of it.
/// </remarks>
internal class WorkerJobContext : JobContext, IDisposable
{
    private readonly ClaimedJob _job;
    private readonly AttemptSettings _settings;
    private CancellationTokenSource? _cts;
    private CancellationTokenSource? _abandon;
    private int _abandoned;
    private AttemptLog? _log;
    private ProgressThrottle? _progress;
    private JsonDocument? _payload;
    private Dictionary<string, JsonElement>? _dependencies;
    private ITimer? _timeoutTimer;
    private int _cancelReason;
    private int _finished;
    private ICheckpointSource? _checkpointSource;
    private ITimer? _checkpointTimer;

    /// <param name="reportAndWait">Writes a report and says whether the store applied it; by default reports are only queued.</param>
    public WorkerJobContext(ClaimedJob job, ILogger logger, Action<JobReport> report, TimeProvider time, TimeSpan progressInterval,
        Func<JobReport, Task<bool>>? reportAndWait = null, CheckpointSettings? checkpoints = null)
        : this(job, new AttemptSettings(logger, report, reportAndWait ?? (r => { report(r); return Task.FromResult(true); }), time, progressInterval,
            checkpoints ?? CheckpointSettings.Default))
    {
    }

    /// <param name="settings">What the attempts of the job's type share.</param>
    public WorkerJobContext(ClaimedJob job, AttemptSettings settings)
    {
        _job = job;
        _settings = settings;
    }

    /// <summary>What a process handler's attempt consumed and how its program ended; set by the handler before it returns or throws.</summary>
    public AttemptUsage? Usage { get; set; }

    // Spelled out: a null byte[] would otherwise convert to an empty (present) ReadOnlyMemory.
    public override ReadOnlyMemory<byte>? Checkpoint => _job.Checkpoint is { } bytes ? new ReadOnlyMemory<byte>(bytes) : (ReadOnlyMemory<byte>?)null;

    public override async ValueTask SaveCheckpointAsync(object? state)
    {
        var report = CheckpointReport(state);
        if (!await _settings.ReportAndWait(report).ConfigureAwait(false))
            WorkerLog.CheckpointRejected(Logger, _job.Id, _job.Attempt);
    }

    private JobCheckpointReport CheckpointReport(object? state)
    {
        var bytes = CheckpointBytes(state);
        if (bytes.Length > _settings.Checkpoints.MaxBytes)
            throw new InvalidOperationException($"the checkpoint is {bytes.Length:N0} bytes, over the limit of {_settings.Checkpoints.MaxBytes:N0} bytes");
        return new JobCheckpointReport(_job.Id, _job.Attempt, _job.WorkerId, bytes);
    }

    /// <summary>The handler can tell its state: ask it every interval, and before a graceful stop.</summary>
    public void UseCheckpointSource(ICheckpointSource source)
    {
        _checkpointSource = source;
        var interval = _job.CheckpointInterval ?? _settings.Checkpoints.Interval;
        _checkpointTimer = _settings.Time.CreateTimer(static s => ((WorkerJobContext)s!).CaptureCheckpoint(), this, interval, interval);
    }

    /// <summary>Asks the handler for its state and queues it as the checkpoint. Never throws: a failing capture is logged.</summary>
    private void CaptureCheckpoint()
    {
        if (_checkpointSource is not { } source || IsFinished) return;
        try
        {
            _settings.Report(CheckpointReport(source.CaptureCheckpoint()));
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

    // Parsed on first use (handlers of jobs without a payload may never ask), into pooled buffers given back on Dispose;
    // the default payload is one shared document.
    public override JsonElement Payload => (_payload ??= _job.Payload == EmptyObject.Text ? EmptyObject.Document : JsonDocument.Parse(_job.Payload)).RootElement;

    /// <summary>The default payload, <c>{}</c>, parsed once: it is read-only, so every attempt may share it (and none disposes it).</summary>
    private static class EmptyObject
    {
        public const string Text = "{}";
        public static readonly JsonDocument Document = JsonDocument.Parse(Text);
    }

    // Parsed on first use: handlers of plain jobs never ask.
    public override IReadOnlyDictionary<string, JsonElement> DependencyResults => _dependencies ??= JsonElements.ParseAll(_job.Dependencies);

    public override CancellationToken CancellationToken => (Volatile.Read(ref _cts) ?? MadeSource(ref _cts, ref _cancelReason)).Token;

    public override CancelReason CancelReason => (CancelReason)Volatile.Read(ref _cancelReason);

    /// <summary>The handler's logger: the process's logger for the job's type, keeping the attempt's lines for the store.</summary>
    public override ILogger Logger => Volatile.Read(ref _log) ?? MadeLog();

    private AttemptLog MadeLog()
    {
        var made = new AttemptLog(_settings.Logger, _job, _settings.Report, _settings.Time, _settings.ProgressInterval);
        var log = Interlocked.CompareExchange(ref _log, made, null) ?? made;
        // Made while the attempt was finishing: it keeps nothing more (Finish may have run before it existed).
        if (IsFinished) log.Finish();
        return log;
    }

    /// <summary>
    /// The source behind a token, made when first needed and installed once; cancelled at once when
    /// <paramref name="fired"/> was set before it existed. Both sides write first and read second, each with a full
    /// fence, so a cancel racing the first read of the token is seen by one of them (cancelling twice is harmless).
    /// </summary>
    private static CancellationTokenSource MadeSource(ref CancellationTokenSource? field, ref int fired)
    {
        var made = new CancellationTokenSource();
        var source = Interlocked.CompareExchange(ref field, made, null);
        if (source is not null)
        {
            made.Dispose();
            return source;
        }
        if (Volatile.Read(ref fired) != 0) made.Cancel();
        return made;
    }

    /// <summary>Cancels the attempt; the first reason given wins. <paramref name="keepCheckpoint"/>: take one even for a lost lease
    /// (the lease is about to run out but is still this worker's).</summary>
    public void Cancel(CancelReason reason, bool keepCheckpoint = false)
    {
        if (Interlocked.CompareExchange(ref _cancelReason, (int)reason, (int)CancelReason.None) == (int)CancelReason.None)
        {
            // A graceful stop keeps the work done so far; a timeout or a lease already lost has nothing to keep.
            if (keepCheckpoint || reason is CancelReason.Shutdown or CancelReason.UserCancelled) CaptureCheckpoint();
            Fire(Volatile.Read(ref _cts));
            Cancelled();
        }
    }

    /// <summary>Called once, by the first <see cref="Cancel"/>, after the token's own callbacks have run.</summary>
    protected virtual void Cancelled()
    {
    }

    private static void Fire(CancellationTokenSource? source)
    {
        try { source?.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Fires when the attempt is abandoned without the cancel grace period (<c>cancel --now</c>): what the
    /// handler started (a process tree) is to be killed at once rather than asked to stop.</summary>
    public CancellationToken AbandonToken => (Volatile.Read(ref _abandon) ?? MadeSource(ref _abandon, ref _abandoned)).Token;

    /// <summary>Cancels with <paramref name="reason"/> (unless cancelled already) and fires <see cref="AbandonToken"/>.</summary>
    public void Abandon(CancelReason reason)
    {
        // Killed first: a process tree abandoned gets SIGKILL, not a SIGTERM it could act on.
        if (Interlocked.Exchange(ref _abandoned, 1) == 0) Fire(Volatile.Read(ref _abandon));
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
        _timeoutTimer = _settings.Time.CreateTimer(static state => ((WorkerJobContext)state!).Cancel(CancelReason.Timeout), this, timeout, Timeout.InfiniteTimeSpan);
    }

    private const double MaxTimerMilliseconds = uint.MaxValue - 1.0;

    private bool IsFinished => Volatile.Read(ref _finished) != 0;

    /// <summary>The progress throttle, made on the first report; its lock orders reports against <see cref="Finish"/>.</summary>
    private ProgressThrottle Progress
    {
        get
        {
            if (Volatile.Read(ref _progress) is { } existing) return existing;
            var made = new ProgressThrottle();
            return Interlocked.CompareExchange(ref _progress, made, null) ?? made;
        }
    }

    /// <summary>When progress was last written, and the latest report held back meanwhile. Touched under its own lock.</summary>
    private sealed class ProgressThrottle
    {
        public long LastAt = long.MinValue;
        public (double Percent, string? Message)? Pending;
        public bool FlushScheduled;
    }

    public override ValueTask ReportProgressAsync(double percent, string? message = null)
    {
        if (double.IsNaN(percent)) throw new ArgumentOutOfRangeException(nameof(percent), "percent must be a number");
        percent = Math.Clamp(percent, 0, 100);
        var time = _settings.Time;
        var now = time.GetTimestamp();
        var progress = Progress;
        lock (progress)
        {
            if (IsFinished) return ValueTask.CompletedTask;
            var since = progress.LastAt == long.MinValue ? TimeSpan.MaxValue : time.GetElapsedTime(progress.LastAt, now);
            if (since >= _settings.ProgressInterval)
            {
                progress.LastAt = now;
                progress.Pending = null;
                _settings.Report(new JobProgressReport(_job.Id, _job.Attempt, _job.WorkerId, percent, message));
                return ValueTask.CompletedTask;
            }
            // Too soon: keep the latest and write it once the interval has passed.
            progress.Pending = (percent, message);
            if (!progress.FlushScheduled)
            {
                progress.FlushScheduled = true;
                _ = FlushProgressLaterAsync(progress, _settings.ProgressInterval - since);
            }
        }
        return ValueTask.CompletedTask;
    }

    private async Task FlushProgressLaterAsync(ProgressThrottle progress, TimeSpan delay)
    {
        await Task.Delay(delay, _settings.Time).ConfigureAwait(false);
        lock (progress)
        {
            progress.FlushScheduled = false;
            if (IsFinished || progress.Pending is not { } p) return;
            progress.Pending = null;
            progress.LastAt = _settings.Time.GetTimestamp();
            _settings.Report(new JobProgressReport(_job.Id, _job.Attempt, _job.WorkerId, p.Percent, p.Message));
        }
    }

    /// <summary>No progress is written after the outcome.</summary>
    public void Finish()
    {
        // Finished first, then the lock waited for: a report under way (it checked before the flag was set, so it holds
        // the lock, made before it checked) ends before this returns; any later one finds the flag set.
        Interlocked.Exchange(ref _finished, 1);
        _checkpointTimer?.Dispose();
        Volatile.Read(ref _log)?.Finish();
        if (Volatile.Read(ref _progress) is { } progress) lock (progress) { }
        _timeoutTimer?.Dispose();
    }

    public void Dispose()
    {
        Finish();
        if (_payload != EmptyObject.Document) _payload?.Dispose();
        _cts?.Dispose();
        _abandon?.Dispose();
    }
}

/// <summary>What the attempts of one job type share: the process's logger for the type, where reports go, the clock, the
/// progress and log interval, and the checkpoint settings. Made once per type, so that an attempt's context holds only its own.</summary>
/// <param name="ReportAndWait">Writes a report and says whether the store applied it.</param>
internal sealed record AttemptSettings(ILogger Logger, Action<JobReport> Report, Func<JobReport, Task<bool>> ReportAndWait, TimeProvider Time,
    TimeSpan ProgressInterval, CheckpointSettings Checkpoints);

/// <summary>How an attempt's checkpoints are taken: the default interval and the size limit.</summary>
internal sealed record CheckpointSettings(TimeSpan Interval, int MaxBytes)
{
    /// <summary>The worker's defaults.</summary>
    public static readonly CheckpointSettings Default = new(WorkerOptions.CheckpointIntervalDefault, WorkerOptions.MaxCheckpointBytesDefault);
}
