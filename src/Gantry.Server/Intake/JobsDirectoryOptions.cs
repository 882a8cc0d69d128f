using Gantry.Protocol;

namespace Gantry.Server.Intake;

/// <summary>The drop folder: where job documents arrive and where their outcomes go.</summary>
public sealed record JobsDirectoryOptions
{
    /// <summary>The folder watched for <c>*.json</c> job documents.</summary>
    public required string Path { get; init; }

    /// <summary>Where <c>&lt;job id&gt;.json</c> is written when a job ends; default <c>&lt;Path&gt;/results</c>.</summary>
    public string? ResultsPath { get; init; }

    /// <summary>Job types accepted without a registered worker (built in, configured).</summary>
    public IReadOnlyList<string> KnownJobTypes { get; init; } = [];

    /// <summary>Limits on each job a document holds (payload size, batch length, JSON depth).</summary>
    public JobLimits Limits { get; init; } = JobLimits.Default;

    /// <summary>How often the folder is scanned when no change is signalled, and results looked for.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Documents whose jobs are still running.</summary>
    public string Accepted => System.IO.Path.Combine(Path, "accepted");
    /// <summary>Documents all of whose jobs succeeded.</summary>
    public string Done => System.IO.Path.Combine(Path, "done");
    /// <summary>Documents one of whose jobs ended dead or cancelled.</summary>
    public string Failed => System.IO.Path.Combine(Path, "failed");
    /// <summary>Documents that could not be read or whose jobs were refused, each with a <c>.error.txt</c> beside it that says why.</summary>
    public string Rejected => System.IO.Path.Combine(Path, "rejected");
    /// <summary>Where job results are written: <see cref="ResultsPath"/>, or <c>&lt;Path&gt;/results</c>.</summary>
    public string Results => ResultsPath ?? System.IO.Path.Combine(Path, "results");

    /// <summary>Refuses a folder without a path and a poll that would spin; runs when the intake is added.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new InvalidInputException("jobs folder", "needs a path");
        Limits.Validate();
        if (PollInterval < Maintenance.MaintenanceOptions.LeastInterval)
            throw new InvalidInputException("jobs folder poll interval", $"must be at least {Maintenance.MaintenanceOptions.LeastInterval.TotalMilliseconds:0}ms (a shorter interval keeps a core busy)");
        Gantry.Time.Timers.CheckLongest(PollInterval, "jobs folder poll interval");
    }

    /// <summary>Files taken for submission (renamed here first, so two processes never take the same one).</summary>
    internal string Processing => System.IO.Path.Combine(Path, ".processing");

    /// <summary>One empty marker per accepted job whose result is still to be written.</summary>
    internal string Pending => System.IO.Path.Combine(Path, ".pending");
}
