using Gantry.Jobs;
using static Gantry.Protocol.TextFields;

namespace Gantry.Storage;

/// <summary>
/// The text a handler put in a report (a progress message, log lines, an error, a result), made text every store and
/// link can hold (<see cref="Gantry.Protocol.TextFields.Storable"/>). Applied as a report enters a worker's or node's
/// report batcher, whatever the link: a NUL in one handler's log line made PostgreSQL refuse the whole batch, and the
/// API refuse it over HTTP, again and again, holding every report of the batch (other jobs' outcomes too) with it.
/// </summary>
internal static class ReportTexts
{
    /// <summary>The report with its handler-made text storable; the same instance when it already is.</summary>
    public static JobReport Clean(JobReport report) => report switch
    {
        JobProgressReport p when !Same(p.Message) => p with { Message = Storable(p.Message) },
        JobSucceededReport s when !Same(s.Result) => s with { Result = Storable(s.Result) },
        JobFailedReport f when !(Same(f.Error.Message) && Same(f.Error.Type) && Same(f.Error.StackTrace)) =>
            f with { Error = f.Error with { Message = Storable(f.Error.Message), Type = Storable(f.Error.Type), StackTrace = Storable(f.Error.StackTrace) } },
        JobLogReport l when !l.Lines.All(line => Same(line.Level) && Same(line.Message)) =>
            l with { Lines = l.Lines.Select(line => line with { Level = Storable(line.Level), Message = Storable(line.Message) }).ToArray() },
        _ => report,
    };

    /// <summary>The reports with their text storable; the same list when every one already is.</summary>
    public static IReadOnlyList<JobReport> Clean(IReadOnlyList<JobReport> reports)
    {
        JobReport[]? cleaned = null;
        for (var i = 0; i < reports.Count; i++)
        {
            var report = Clean(reports[i]);
            if (ReferenceEquals(report, reports[i]) && cleaned is null) continue;
            cleaned ??= [.. reports];
            cleaned[i] = report;
        }
        return cleaned ?? reports;
    }

    private static bool Same(string? text) => ReferenceEquals(text, Storable(text));
}
