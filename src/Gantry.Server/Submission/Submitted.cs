using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Telemetry;

namespace Gantry.Server.Submission;

/// <summary>Counts what a submission added (an existing job returned for its idempotency key is not new).</summary>
public static class Submitted
{
    public static void Count(IReadOnlyList<NewJob> jobs, IReadOnlyList<JobEnqueueResult> results)
    {
        for (var i = 0; i < results.Count; i++)
            if (!results[i].Existing) GantryMetrics.JobsSubmitted.Add(1, new KeyValuePair<string, object?>("queue", jobs[i].Queue));
    }
}
