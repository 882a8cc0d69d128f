using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
using Gantry.Cli.Output;
using Gantry.Server.Api;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry jobs list|show|cancel|retry</c>.</summary>
internal static class JobsCommand
{
    public static Command Create() => new("jobs", "Inspect and control jobs")
    {
        List(), Show(), Cancel(), Retry(), Logs(),
    };

    private static Command Logs()
    {
        var id = CliOptions.JobId();
        var attempt = CliOptions.OptionalCount("--attempt", "Only this attempt's lines", least: 1);
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("logs", "Show what a job's attempts logged: its handler's log lines, a process handler's output") { id, attempt, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var lines = (await store.JobLogsAsync(parse.GetValue(id), ct).ConfigureAwait(false))
                .Where(l => parse.GetValue(attempt) is not { } a || l.Attempt == a)
                .ToArray();
            if (parse.GetValue(json))
            {
                Cli.WriteJson(lines.Select(l => new LogLineView(l.Attempt, l.Line.Number, l.Line.At, l.Line.Level, l.Line.Message)).ToArray(), Cli.Json.LogLineViewArray);
                return Cli.Ok;
            }
            if (lines.Length == 0) Console.Out.WriteLine("no log lines");
            foreach (var l in lines)
                Console.Out.WriteLine($"attempt {l.Attempt}  {l.Line.At.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z  {l.Line.Level,-11}  {l.Line.Message}");
            return Cli.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var state = CliOptions.State();
        var queue = new Option<string?>("--queue", "-q") { Description = "Only jobs in this queue", HelpName = "name" };
        var type = new Option<string?>("--type", "-t") { Description = "Only jobs of this type", HelpName = "type" };
        var limit = new Option<int>("--limit", "-n") { Description = "Most jobs to list, newest first", DefaultValueFactory = _ => 50, HelpName = "n" };
        var before = new Option<Guid?>("--before") { Description = "Only jobs older than this job id (paging)", HelpName = "id" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("list", "List jobs, newest first") { state, queue, type, limit, before, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(limit);
            if (n is < 1 or > 10_000) throw new InvalidInputException("--limit", $"must be between 1 and 10000, got {n}");
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var jobs = await store.JobListAsync(new JobListParams
            {
                State = parse.GetValue(state), Queue = parse.GetValue(queue), Type = parse.GetValue(type), Limit = n, Before = parse.GetValue(before),
            }, ct).ConfigureAwait(false);
            if (parse.GetValue(json)) Cli.WriteJson(jobs.Select(j => JobView.From(j, withErrors: false)).ToArray(), Cli.Json.JobViewArray);
            else Console.Out.Write(JobText.List(jobs, DateTimeOffset.UtcNow));
            return Cli.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var id = CliOptions.JobId();
        var follow = new Option<bool>("--follow", "-f") { Description = "Follow the job until it ends, drawing its progress; exit 3 if it ends dead, 4 if cancelled (as submit --wait)" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("show", "Show a job: state, attempts, progress, result, the error of every failed attempt, timestamps") { id, follow, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            var jobId = parse.GetValue(id);
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var job = await store.JobGetAsync(jobId, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(jobId.ToString());
            if (parse.GetValue(follow) && !job.State.IsTerminal())
            {
                await ProgressWatch.FollowAsync(store, jobId, draw: !parse.GetValue(json) && ProgressWatch.Interactive, ct, quiet: parse.GetValue(json)).ConfigureAwait(false);
                job = await store.JobGetAsync(jobId, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(jobId.ToString());
            }
            if (parse.GetValue(json)) Cli.WriteJson(JobView.From(job, withErrors: true), Cli.Json.JobView);
            else Console.Out.Write(JobText.Show(job, DateTimeOffset.UtcNow));
            // Following is waiting: the outcome decides the exit code, as for submit --wait.
            return parse.GetValue(follow) ? Cli.Outcome([job.State]) : Cli.Ok;
        });
        return command;
    }

    private static Command Cancel()
    {
        var id = CliOptions.JobId();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var now = new Option<bool>("--now") { Description = "Do not wait for the cancel grace period: the handler's token fires and its process tree is killed at once" };
        var command = new Command("cancel", "Cancel a job: a waiting job ends at once, a running one is stopped by its worker") { id, now, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var result = await store.JobCancelAsync(parse.GetValue(id), parse.GetValue(now), ct).ConfigureAwait(false);
            Console.Out.WriteLine(result.Outcome == JobCancelOutcome.Cancelled
                ? $"{result.Id} cancelled"
                : $"{result.Id} is running: its worker was asked to stop it");
            return Cli.Ok;
        });
        return command;
    }

    private static Command Retry()
    {
        var id = CliOptions.JobId();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("retry", "Put a dead or cancelled job back to queued (a workflow step waits for its dependencies), with a fresh set of attempts") { id, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            await store.JobRetryAsync(parse.GetValue(id), ct).ConfigureAwait(false);
            // Queued, or waiting when it is a workflow step whose dependencies have not all succeeded.
            var job = await store.JobGetAsync(parse.GetValue(id), ct).ConfigureAwait(false);
            Console.Out.WriteLine($"{parse.GetValue(id)} {job?.State.ToText() ?? "queued"}");
            return Cli.Ok;
        });
        return command;
    }
}
