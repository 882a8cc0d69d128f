using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Execution;

/// <summary>
/// The logger a handler gets: it writes to the process's logs as usual and keeps the attempt's
/// lines (Information and above) for the store, sent in batches at most every
/// <c>interval</c> and once more when the attempt ends. At most <see cref="MaxBytes"/> are kept
/// per attempt; past that one line says how much was cut.
/// </summary>
internal sealed class AttemptLog(ILogger inner, ClaimedJob job, Action<JobReport> report, TimeProvider time, TimeSpan interval) : ILogger
{
    public const int MaxBytes = 1024 * 1024;

    private readonly object _lock = new();
    private List<JobLogLine> _pending = [];
    private int _number;
    private long _bytes;
    private long _cutBytes;
    private bool _flushScheduled;
    private bool _finished;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information || inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        inner.Log(logLevel, eventId, state, exception, formatter);
        if (logLevel < LogLevel.Information || logLevel == LogLevel.None) return;
        var message = formatter(state, exception);
        if (exception is not null) message += Environment.NewLine + exception;
        lock (_lock)
        {
            if (_finished) return;
            _bytes += message.Length;
            if (_bytes > MaxBytes)
            {
                _cutBytes += message.Length;
                return;
            }
            _pending.Add(new JobLogLine(++_number, time.GetUtcNow(), LevelName(logLevel), message));
            if (_flushScheduled) return;
            _flushScheduled = true;
        }
        _ = FlushLaterAsync();
    }

    private async Task FlushLaterAsync()
    {
        await Task.Delay(interval, time).ConfigureAwait(false);
        lock (_lock)
        {
            _flushScheduled = false;
            if (_finished) return;
            SendLocked();
        }
    }

    /// <summary>Sends what is pending (and the note of what was cut); nothing is kept after.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (_finished) return;
            if (_cutBytes > 0)
                _pending.Add(new JobLogLine(++_number, time.GetUtcNow(), "warning", $"log cut at {MaxBytes / 1024} KB: {_cutBytes:N0} more bytes were discarded"));
            SendLocked();
            _finished = true;
        }
    }

    private void SendLocked()
    {
        if (_pending.Count == 0) return;
        report(new JobLogReport(job.Id, job.Attempt, job.WorkerId, _pending));
        _pending = [];
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        LogLevel.Debug => "debug",
        _ => "trace",
    };
}
