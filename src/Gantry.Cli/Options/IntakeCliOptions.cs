using Gantry.Server.Intake;

namespace Gantry.Cli.Options;

/// <summary>The drop folder of a process that runs the coordinator (<c>gantry run</c>, <c>gantry server</c>).</summary>
internal sealed class IntakeCliOptions
{
    public Option<string?> JobsDir { get; } = new("--jobs-dir")
    {
        Description = "Watch this folder for *.json job documents: each is submitted and moved to accepted/ (or rejected/ with a .error.txt), results/<job id>.json is written when its job ends, and the document moves to done/ or failed/ when all its jobs have",
        HelpName = "path",
    };

    public Option<string?> ResultsDir { get; } = new("--results-dir") { Description = "Where --jobs-dir writes results (default <jobs-dir>/results)", HelpName = "path" };

    public void AddTo(Command command)
    {
        command.Options.Add(JobsDir);
        command.Options.Add(ResultsDir);
    }

    public JobsDirectoryOptions? Read(Hosting.CommandSettings parse)
    {
        if (parse.Get(JobsDir) is not { } dir)
        {
            if (parse.Get(ResultsDir) is not null) throw new InvalidInputException("--results-dir", "needs --jobs-dir");
            return null;
        }
        if (File.Exists(dir)) throw new InvalidInputException("--jobs-dir", $"{dir} is a file, not a folder");
        var options = new JobsDirectoryOptions { Path = dir, ResultsPath = parse.Get(ResultsDir) };
        // Made now, so that a folder that cannot be (a name too long, no permission, a file in the way) is one line at start
        // rather than a service failing again and again in the log.
        Create(options.Path, "--jobs-dir");
        Create(options.Results, options.ResultsPath is null ? "--jobs-dir" : "--results-dir");
        return options;
    }

    private static void Create(string path, string flag)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidInputException(flag, $"cannot make the folder: {ex.Message}");
        }
    }
}
