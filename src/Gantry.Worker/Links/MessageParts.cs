using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Worker.Links;

/// <summary>
/// Lists sent through a link whose messages have a size limit (a node's IPC frame, a server's request body): how many
/// items one message carries, and reports sent in as many messages as they need, in order.
/// </summary>
internal static class MessageParts
{
    /// <summary>
    /// How many of <paramref name="items"/>, from <paramref name="start"/>, fit in <paramref name="budget"/> bytes: 0 when
    /// the first alone does not. Each item is sized by <paramref name="bound"/> (cheap, never less than its size), and by
    /// <paramref name="exact"/> only when the bound would not fit, so a list of small items costs a sum of lengths.
    /// </summary>
    public static int Fitting<T>(IReadOnlyList<T> items, int start, long budget, Func<T, long> bound, Func<T, long> exact)
    {
        long total = 0;
        var i = start;
        for (; i < items.Count; i++)
        {
            var size = bound(items[i]);
            if (total + size > budget && total + (size = exact(items[i])) > budget) break;
            total += size;
        }
        return i - start;
    }

    /// <summary>
    /// Sends <paramref name="reports"/> by <paramref name="send"/> in parts of at most <paramref name="budget"/> bytes, in
    /// order, and returns whether each was applied. A report that alone is larger than a part cannot be sent: an outcome
    /// (a result, an error's text) ends its attempt failed for good, saying why (<paramref name="limit"/>: what cannot
    /// carry it), instead of leaving its job running while the report is refused again and again; a checkpoint, log,
    /// progress or usage report that large is dropped and the attempt goes on.
    /// </summary>
    public static async Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, long budget, Func<JobReport, long> bound, Func<JobReport, long> exact,
        string limit, Func<IReadOnlyList<JobReport>, CancellationToken, Task<IReadOnlyList<bool>>> send, CancellationToken ct)
    {
        if (Fitting(reports, 0, budget, bound, exact) == reports.Count) return await send(reports, ct).ConfigureAwait(false);
        var applied = new List<bool>(reports.Count);
        for (var start = 0; start < reports.Count;)
        {
            var n = Fitting(reports, start, budget, bound, exact);
            if (n > 0)
            {
                applied.AddRange(await send(reports.Skip(start).Take(n).ToArray(), ct).ConfigureAwait(false));
                start += n;
                continue;
            }
            var report = reports[start++];
            if (!CarriesText(report))
            {
                applied.Add(true);
                continue;
            }
            var why = $"the attempt's {(report is JobSucceededReport ? "result" : "error")} is about {exact(report):N0} bytes, more than {limit} ({budget:N0} bytes)";
            applied.AddRange(await send([Undeliverable(report.JobId, report.Attempt, report.WorkerId, why)], ct).ConfigureAwait(false));
        }
        return applied;
    }

    /// <summary>An outcome whose text (a result, an error) may be what keeps it from the coordinator.</summary>
    public static bool CarriesText(JobReport report) => report is JobSucceededReport or JobFailedReport;

    /// <summary>
    /// The report that ends an attempt which cannot cross to or from the coordinator as it is (a job too large for a node
    /// to hand its worker, an outcome too large for a message or refused for what it holds): failed for good, saying why,
    /// so that its job ends instead of running on.
    /// </summary>
    public static JobFailedReport Undeliverable(Guid jobId, int attempt, string workerId, string why) =>
        new(jobId, attempt, workerId, new JobError(JobErrorKinds.Exception, why), JobState.Dead, null);
}
