using System.Globalization;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Worker.Execution;

/// <summary>What a worker or node ran since it started, by outcome, for the one line it logs on exit.</summary>
internal sealed class RunTally(TimeProvider time)
{
    private readonly long _startedAt = time.GetTimestamp();
    private long _succeeded;
    private long _failed;
    private long _cancelled;
    private long _requeued;

    /// <summary>The outcome an attempt's last report gives: succeeded, dead, failed, cancelled, requeued, or lost (no
    /// report); null for a report that ends nothing (progress, a checkpoint, a log).</summary>
    public static string? OutcomeOf(JobReport? report) => report switch
    {
        null => "lost",
        JobSucceededReport => "succeeded",
        JobFailedReport { Next: JobState.Dead } => "dead",
        JobFailedReport => "failed",
        JobCancelledReport => "cancelled",
        JobRequeuedReport => "requeued",
        _ => null,
    };

    /// <summary>Counts each report that ends an attempt (<see cref="OutcomeOf"/>).</summary>
    public void Add(IEnumerable<JobReport> reports)
    {
        foreach (var report in reports)
            if (OutcomeOf(report) is { } outcome) Add(outcome);
    }

    /// <summary>Counts an ended attempt by its outcome (<see cref="OutcomeOf"/>): dead counts as failed;
    /// an attempt lost (no report) counts as nothing, since another attempt or the user owns its outcome.</summary>
    public void Add(string outcome)
    {
        switch (outcome)
        {
            case "succeeded": Interlocked.Increment(ref _succeeded); break;
            case "failed" or "dead": Interlocked.Increment(ref _failed); break;
            case "cancelled": Interlocked.Increment(ref _cancelled); break;
            case "requeued": Interlocked.Increment(ref _requeued); break;
        }
    }

    public long Succeeded => Interlocked.Read(ref _succeeded);
    public long Failed => Interlocked.Read(ref _failed);
    public long Cancelled => Interlocked.Read(ref _cancelled);
    public long Requeued => Interlocked.Read(ref _requeued);
    public TimeSpan Uptime => time.GetElapsedTime(_startedAt);

    /// <summary>An uptime as 1h02m03s, 2m03s or 4.5s.</summary>
    public static string Format(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:00}m{t.Seconds:00}s")
        : t.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}m{t.Seconds:00}s")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.#}s");
}
