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
        return new JobsDirectoryOptions { Path = dir, ResultsPath = parse.Get(ResultsDir) };
    }
}
