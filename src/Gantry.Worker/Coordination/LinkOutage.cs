using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Coordination;

/// <summary>
/// Logs an outage of the link to the coordinator (a store or server down) once: one line with its cause when calls
/// start failing, and one when they succeed again. The failures in between, which the loops retry with
/// <see cref="Gantry.Time.RetryPause"/>, go to Debug with their stack traces, so an outage is not a page of them every few seconds.
/// </summary>
internal sealed partial class LinkOutage(ILogger logger, TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _failures;
    private long _since;

    /// <summary>A call of <paramref name="operation"/> failed; the caller retries.</summary>
    public void Failed(string operation, Exception exception)
    {
        bool first;
        lock (_lock)
        {
            first = _failures++ == 0;
            if (first) _since = time.GetTimestamp();
        }
        if (first) Log.Down(logger, operation, Cause(exception));
        else Log.StillDown(logger, exception, operation);
    }

    /// <summary>True from a failed call until the next one that succeeds: the coordinator cannot be reached.</summary>
    public bool IsDown => Volatile.Read(ref _failures) > 0;

    /// <summary>A call succeeded: ends the outage, if there was one.</summary>
    public void Ok()
    {
        if (Volatile.Read(ref _failures) == 0) return;
        int failures;
        TimeSpan lasted;
        lock (_lock)
        {
            failures = _failures;
            if (failures == 0) return;
            _failures = 0;
            lasted = time.GetElapsedTime(_since);
        }
        Log.Up(logger, lasted.TotalSeconds, failures);
    }

    /// <summary>The message of each exception in the chain, once: "connection refused (127.0.0.1:5080)", not a stack.</summary>
    private static string Cause(Exception exception)
    {
        var parts = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            var text = e.Message.TrimEnd('.');
            if (text.Length > 0 && !parts.Any(p => p.Contains(text, StringComparison.Ordinal))) parts.Add(text);
        }
        return string.Join(": ", parts);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1031, Level = LogLevel.Warning, Message = "The coordinator cannot be reached ({Operation}): {Cause}; retrying until it answers")]
        public static partial void Down(ILogger logger, string operation, string cause);

        [LoggerMessage(EventId = 1032, Level = LogLevel.Debug, Message = "The coordinator still cannot be reached ({Operation})")]
        public static partial void StillDown(ILogger logger, Exception exception, string operation);

        [LoggerMessage(EventId = 1033, Level = LogLevel.Information, Message = "The coordinator answers again, after {Seconds:0.#}s and {Failures} failed call(s)")]
        public static partial void Up(ILogger logger, double seconds, int failures);
    }
}
