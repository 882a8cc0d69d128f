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
        var queue = CliOptions.NameFilter("--queue", "-q", "Only jobs in this queue", "name");
        var type = CliOptions.NameFilter("--type", "-t", "Only jobs of this type", "type");
        var limit = new Option<int>("--limit", "-n") { Description = "Most jobs to list, newest first", DefaultValueFactory = _ => 50, HelpName = "n" };
        var before = new Option<Guid?>("--before") { Description = "Only jobs older than this job id (paging)", HelpName = "id" };
        var tags = CliOptions.Tags("--tag", "Only jobs with this tag (repeat it: all must match), e.g. --tag team=billing");
        var search = new Option<string?>("--search") { Description = "Only the job with this id or idempotency key, or jobs whose type starts with this text", HelpName = "text" };
        var concurrencyKey = CliOptions.ConcurrencyKeyFilter();
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("list", "List jobs, newest first") { state, queue, type, tags, concurrencyKey, search, limit, before, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(limit);
            if (n is < 1 or > 10_000) throw new InvalidInputException("--limit", $"must be between 1 and 10000, got {n}");
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var jobs = await store.JobListAsync(new JobListParams
            {
                State = parse.GetValue(state), Queue = parse.GetValue(queue), Type = parse.GetValue(type), Limit = n, Before = parse.GetValue(before),
                Tags = parse.GetValue(tags), Search = parse.GetValue(search) is { Length: 0 } ? throw new InvalidInputException("--search", "must not be empty") : parse.GetValue(search),
                ConcurrencyKey = parse.GetValue(concurrencyKey),
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
        var id = OptionalJobId();
        var filters = new BulkFilters();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var now = new Option<bool>("--now") { Description = "Do not wait for the cancel grace period: the handler's token fires and its process tree is killed at once" };
        var command = new Command("cancel", "Cancel a job: a waiting job ends at once, a running one is stopped by its worker. " +
            "Without an id, cancel every job a filter matches (--state, --queue, --type, --tag, --concurrency-key), oldest first; --dry-run counts them") { id, now, location, config };
        filters.AddTo(command);
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            if (parse.GetValue(id) is not { } jobId)
                return await BulkAsync(JobBulkAction.Cancel, filters, parse, location, ct).ConfigureAwait(false);
            filters.RequireNone(parse);
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var result = await store.JobCancelAsync(jobId, parse.GetValue(now), ct).ConfigureAwait(false);
            Console.Out.WriteLine(result.Outcome == JobCancelOutcome.Cancelled
                ? $"{result.Id} cancelled"
                : $"{result.Id} is running: its worker was asked to stop it");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>The job id of <c>jobs cancel</c> and <c>jobs retry</c>, optional: without it they act on a filter.</summary>
    private static Argument<Guid?> OptionalJobId() => new("id")
    {
        Description = "The job's id (without it: every job the filter flags match)",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Guid.TryParse(text, out var id)) return id;
            r.AddError($"'{text}' is not a job id (expected a UUID such as 0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f)");
            return null;
        },
    };

    /// <summary>The filter flags of a bulk retry or cancel.</summary>
    private sealed class BulkFilters
    {
        public Option<JobState?> State { get; } = CliOptions.State();
        public Option<string?> Queue { get; } = CliOptions.NameFilter("--queue", "-q", "Only jobs in this queue", "name");
        public Option<string?> Type { get; } = CliOptions.NameFilter("--type", "-t", "Only jobs of this type", "type");
        public Option<IReadOnlyDictionary<string, string>> Tags { get; } = CliOptions.Tags("--tag", "Only jobs with this tag (repeat it: all must match)");
        public Option<string?> ConcurrencyKey { get; } = CliOptions.ConcurrencyKeyFilter();
        public Option<bool> DryRun { get; } = new("--dry-run") { Description = "Only count the jobs the action would take" };
        public Option<int> Max { get; } = new("--batch") { Description = "Jobs per call (1 to 10000); calls go on until none is left", DefaultValueFactory = _ => JobBulk.DefaultMax, HelpName = "n" };

        public void AddTo(Command command)
        {
            command.Options.Add(State);
            command.Options.Add(Queue);
            command.Options.Add(Type);
            command.Options.Add(Tags);
            command.Options.Add(ConcurrencyKey);
            command.Options.Add(DryRun);
            command.Options.Add(Max);
        }

        public JobFilter Filter(ParseResult parse) => new()
        {
            State = parse.GetValue(State), Queue = parse.GetValue(Queue), Type = parse.GetValue(Type), Tags = parse.GetValue(Tags),
            ConcurrencyKey = parse.GetValue(ConcurrencyKey),
        };

        /// <summary>With an id, a filter flag means a mistake: refused rather than ignored.</summary>
        public void RequireNone(ParseResult parse)
        {
            if (!Filter(parse).IsEmpty || parse.GetValue(DryRun))
                throw new InvalidInputException("id", "give either a job id or filter flags (--state, --queue, --type, --tag, --concurrency-key, --dry-run), not both");
        }
    }

    /// <summary>A bulk action, call after call (each at most --batch jobs, each after the last job the one before looked at)
    /// until nothing after it matches;
    /// prints the preview, a line per call and the total.</summary>
    private static async Task<int> BulkAsync(JobBulkAction action, BulkFilters filters, ParseResult parse, ControlOptions location, CancellationToken ct)
    {
        var filter = filters.Filter(parse);
        if (filter.IsEmpty) throw new InvalidInputException("id", "give a job id, or filter flags (--state, --queue, --type, --tag, --concurrency-key) to act on every job they match");
        var verb = action == JobBulkAction.Retry ? "retry" : "cancel";
        var p = JobBulk.Validated(new JobBulkParams(action, filter, DryRun: true, Max: parse.GetValue(filters.Max)));
        await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
        var preview = await store.JobBulkAsync(p, ct).ConfigureAwait(false);
        Console.Out.WriteLine($"{verb}: {preview.Matched:N0} {(filter.State is { } state ? state.ToText() + " " : "")}jobs{Describe(filter)}{(parse.GetValue(filters.DryRun) ? " (dry run)" : "")}");
        if (parse.GetValue(filters.DryRun)) return Cli.Ok;
        long total = 0;
        Guid? cursor = null;
        for (var remaining = preview.Matched; remaining > 0;)
        {
            // Each call goes on after the last job the previous one looked at: a job is taken at most once.
            var step = await store.JobBulkAsync(p with { DryRun = false, Cursor = cursor }, ct).ConfigureAwait(false);
            total += step.Touched;
            remaining = step.Remaining;
            if (step.Cursor == cursor) break; // nothing left after the cursor
            cursor = step.Cursor;
            if (remaining > 0) Console.Out.WriteLine($"{verb}: {total:N0} done, {remaining:N0} left");
        }
        Console.Out.WriteLine($"{(action == JobBulkAction.Retry ? "retried" : "cancelled")} {total:N0} jobs");
        return Cli.Ok;
    }

    /// <summary>" of type mail in queue emails tagged team=billing".</summary>
    private static string Describe(JobFilter f)
    {
        var parts = new List<string>();
        if (f.Type is not null) parts.Add($" of type {f.Type}");
        if (f.Queue is not null) parts.Add($" in queue {f.Queue}");
        if (f.Tags is { Count: > 0 } tags) parts.Add($" tagged {string.Join(",", tags.Select(t => $"{t.Key}={t.Value}"))}");
        if (f.ConcurrencyKey is not null) parts.Add($" with concurrency key {f.ConcurrencyKey}");
        return string.Concat(parts);
    }

    private static Command Retry()
    {
        var id = OptionalJobId();
        var filters = new BulkFilters();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("retry", "Put a dead or cancelled job back to queued (a workflow step waits for its dependencies), with a fresh set of attempts. " +
            "Without an id, retry every job a filter matches (--state, --queue, --type, --tag, --concurrency-key), oldest first; --dry-run counts them") { id, location, config };
        filters.AddTo(command);
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            if (parse.GetValue(id) is not { } jobId)
                return await BulkAsync(JobBulkAction.Retry, filters, parse, location, ct).ConfigureAwait(false);
            filters.RequireNone(parse);
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            await store.JobRetryAsync(jobId, ct).ConfigureAwait(false);
            // Queued, or waiting when it is a workflow step whose dependencies have not all succeeded.
            var job = await store.JobGetAsync(jobId, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"{jobId} {job?.State.ToText() ?? "queued"}");
            return Cli.Ok;
        });
        return command;
    }
}
