using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Telemetry;

namespace Gantry.Worker.Execution;

/// <summary>Records an ended attempt: its run time by outcome, and the completed and failed counters.</summary>
internal static class JobMetrics
{
    /// <returns>The outcome it recorded: succeeded, dead, failed, cancelled, requeued, or lost (no report).</returns>
    public static string Ended(ClaimedJob job, JobReport? report, TimeSpan ran)
    {
        var outcome = RunTally.OutcomeOf(report) ?? "lost";
        if (GantryMetrics.RunDuration.Enabled)
            GantryMetrics.RunDuration.Record(ran.TotalSeconds, new TagList { { "queue", job.Queue }, { "type", job.Type }, { "outcome", outcome } });
        switch (report)
        {
            case JobSucceededReport:
                GantryMetrics.JobsCompleted.Add(1, new KeyValuePair<string, object?>("queue", job.Queue), new KeyValuePair<string, object?>("type", job.Type));
                break;
            case JobFailedReport failed:
                GantryMetrics.JobsFailed.Add(1, new KeyValuePair<string, object?>("queue", job.Queue), new KeyValuePair<string, object?>("type", job.Type),
                    new KeyValuePair<string, object?>("final", failed.Next == JobState.Dead ? "true" : "false"));
                break;
        }
        return outcome;
    }

    /// <summary>Records what a process handler's attempt consumed, by type and outcome.</summary>
    public static void Used(ClaimedJob job, AttemptUsage usage)
    {
        var tags = new TagList { { "queue", job.Queue }, { "type", job.Type }, { "outcome", usage.Outcome } };
        if (usage.CpuSeconds is { } cpu && GantryMetrics.AttemptCpu.Enabled) GantryMetrics.AttemptCpu.Record(cpu, tags);
        if (usage.PeakMemoryBytes is { } peak && GantryMetrics.AttemptPeakMemory.Enabled) GantryMetrics.AttemptPeakMemory.Record(peak, tags);
    }
}
