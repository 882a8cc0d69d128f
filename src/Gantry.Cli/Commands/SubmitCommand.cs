using System.Globalization;
using System.Text.Json;
using Gantry.Cli.Output;
using Gantry.Server.Api;
using Gantry.Jobs;
using Gantry.Protocol;
using Gantry.Server.Submission;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry submit</c>: enqueue one job from flags, or a batch from a job document.</summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var type = new Argument<string?>("type") { Description = "The job type (names its handler)", Arity = ArgumentArity.ZeroOrOne };
        var payload = new Argument<string?>("payload") { Description = "The payload as JSON (default {})", Arity = ArgumentArity.ZeroOrOne };
        // An unknown flag would otherwise be taken for the payload.
        payload.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.Tokens[0].Value.StartsWith("--", StringComparison.Ordinal))
                r.AddError($"unknown option '{r.Tokens[0].Value}'");
        });
        var workflowFile = new Option<string?>("--workflow") { Description = "Submit a workflow document (- for stdin): named steps, each a job document with depends_on; all steps or none", HelpName = "path" };
        var file = new Option<string?>("--file", "-f") { Description = "Read job documents from a file (- for stdin): one JSON object, an array, or JSON lines; a batch is all or none", HelpName = "path" };
        var queue = new Option<string?>("--queue", "-q") { Description = "Queue (default \"default\")", HelpName = "name" };
        var priority = CliOptions.OptionalCount("--priority", "Priority; higher runs first (default 0)", least: int.MinValue).WithAlias("-p");
        var delay = CliOptions.Duration("--delay", "Start no sooner than this from now, e.g. 30s");
        var runAt = new Option<DateTimeOffset?>("--run-at") { Description = "Start no sooner than this time (ISO 8601, e.g. 2026-01-31T09:30:00Z)", HelpName = "time", CustomParser = ParseTime };
        var timeout = CliOptions.Duration("--timeout", "Cancel an attempt that runs longer, e.g. 60s");
        var maxAttempts = CliOptions.OptionalCount("--max-attempts", $"Attempts before the job is dead (default {NewJob.MaxAttemptsDefault})", least: 1, most: Protocol.JobDraft.MaxAttemptsLimit);
        var key = new Option<string?>("--idempotency-key") { Description = "Submitting the same key to the same queue again returns the existing job", HelpName = "key" };
        var uniqueFor = CliOptions.Duration("--unique-for", "The idempotency key holds for this long after the job is created, e.g. 10m (default: while the job is kept)");
        var uniqueWhile = CliOptions.List("--unique-while", "The idempotency key holds only while the job is in these states, e.g. queued,running");
        var concurrencyKey = new Option<string?>("--concurrency-key") { Description = "Groups the job for its queue's per-key limit and fair turns (a tenant, a customer)", HelpName = "key" };
        var tags = CliOptions.Tags("--tags", "Tags, e.g. team=billing,env=prod");
        var caps = CliOptions.List("--require", "Capabilities a worker must advertise to run the job, e.g. gpu,big-mem");
        var wait = new Option<bool>("--wait", "-w") { Description = "Wait for the outcome, showing progress, and print it with the result" };
        var maxPayload = new Option<int>("--max-payload")
        {
            Description = "Largest payload accepted, e.g. 512KiB or 4MiB (default 1MiB; also GANTRY_MAX_PAYLOAD)",
            HelpName = "size",
            DefaultValueFactory = r => ParseSize(r, Environment.GetEnvironmentVariable("GANTRY_MAX_PAYLOAD") ?? "1MiB", "GANTRY_MAX_PAYLOAD"),
            CustomParser = r => ParseSize(r, r.Tokens.Count > 0 ? r.Tokens[0].Value : "", "--max-payload"),
        };
        var allowUnknown = new Option<bool>("--allow-unknown-type") { Description = "Enqueue even when no known handler serves the type (for workers not started yet)" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();

        var command = new Command("submit", "Enqueue a job and print its id")
        {
            type, payload, file, workflowFile, queue, priority, delay, runAt, timeout, maxAttempts, key, uniqueFor, uniqueWhile, concurrencyKey, tags, caps, wait, maxPayload, allowUnknown, json, location, config,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var settings = GantryConfig.Load(parse.GetValue(config));
            // A job's own limits wider than those its type has here are refused before anything is sent.
            var limits = settings.JobLimits with { MaxPayloadBytes = parse.GetValue(maxPayload) };
            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(delay) is not null && parse.GetValue(runAt) is not null)
                throw new InvalidInputException("--delay/--run-at", "give one or the other, not both");
            DateTimeOffset? when = parse.GetValue(delay) is { } d ? Protocol.JobDraft.StartAfter(now, d, "--delay") : parse.GetValue(runAt);

            if (parse.GetValue(workflowFile) is { } flowPath)
            {
                if (parse.GetValue(type) is not null || parse.GetValue(file) is not null)
                    throw new InvalidInputException("submit", "give --workflow alone, without a job type or --file");
                return await WorkflowSubmit.RunAsync(parse, flowPath, limits, !parse.GetValue(allowUnknown), settings,
                    location, parse.GetValue(json), parse.GetValue(wait), ct).ConfigureAwait(false);
            }

            // Flags given explicitly override the same fields of every document.
            JobDraft Override(JobDraft draft) => draft with
            {
                Queue = parse.GetValue(queue) ?? draft.Queue,
                Priority = parse.GetValue(priority) ?? draft.Priority,
                RunAt = when ?? draft.RunAt,
                TimeoutSeconds = parse.GetValue(timeout)?.Value.TotalSeconds ?? draft.TimeoutSeconds,
                MaxAttempts = parse.GetValue(maxAttempts) ?? draft.MaxAttempts,
                IdempotencyKey = parse.GetValue(key) ?? draft.IdempotencyKey,
                UniqueForSeconds = parse.GetValue(uniqueFor)?.Value.TotalSeconds ?? draft.UniqueForSeconds,
                UniqueWhile = parse.GetValue(uniqueWhile) is { Count: > 0 } uw ? uw : draft.UniqueWhile,
                ConcurrencyKey = parse.GetValue(concurrencyKey) ?? draft.ConcurrencyKey,
                Tags = parse.GetValue(tags) is { Count: > 0 } t ? t : draft.Tags,
                RequiredCapabilities = parse.GetValue(caps) is { Count: > 0 } c ? c : draft.RequiredCapabilities,
            };

            IReadOnlyList<(JobDraft Draft, string Where)> drafts;
            if (parse.GetValue(file) is { } path)
            {
                if (parse.GetValue(type) is not null)
                    throw new InvalidInputException("submit", "give a job type or --file, not both");
                var (text, source) = await ReadInputAsync(path, limits, ct).ConfigureAwait(false);
                drafts = JobDocumentReader.ReadDrafts(text, source, limits);
                if (drafts.Count == 0) throw new InvalidInputException(source, "holds no job document");
                if (drafts.Count > limits.MaxBatch) throw new InvalidInputException(source, $"holds {drafts.Count:N0} jobs, over the batch limit of {limits.MaxBatch:N0}");
            }
            else
            {
                var jobType = parse.GetValue(type) ?? throw new InvalidInputException("submit", "name a job type (e.g. gantry submit echo '{\"hello\":\"world\"}') or use --file");
                drafts = [(new JobDraft { Type = jobType, Payload = PayloadArgument(parse.GetValue(payload), limits) }, "")];
            }
            var flags = new FlagFields()
                .Add("queue", "--queue", parse.GetValue(queue) is not null)
                .Add("timeout_seconds", "--timeout", parse.GetValue(timeout) is not null)
                .Add("max_attempts", "--max-attempts", parse.GetValue(maxAttempts) is not null)
                .Add("idempotency_key", "--idempotency-key", parse.GetValue(key) is not null)
                .Add("unique_for", "--unique-for", parse.GetValue(uniqueFor) is not null)
                .Add("unique_while", "--unique-while", parse.GetValue(uniqueWhile) is { Count: > 0 })
                .Add("concurrency_key", "--concurrency-key", parse.GetValue(concurrencyKey) is not null)
                .Add("tags", "--tags", parse.GetValue(tags) is { Count: > 0 })
                .Add("required_capabilities", "--require", parse.GetValue(caps) is { Count: > 0 });
            var validated = drafts.Select(d => Override(d.Draft))
                .Select((d, i) => (Draft: d, Job: flags.Check(() => d.Validate(limits, drafts[i].Where), drafts[i].Where))).ToArray();
            var jobs = validated.Select(v => v.Job).ToArray();

            await using var store = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            var results = await store.JobSubmitAsync(validated, parse.GetValue(allowUnknown), settings.KnownJobTypes, ct).ConfigureAwait(false);

            var asJson = parse.GetValue(json);
            if (!parse.GetValue(wait))
            {
                var views = results.Select((r, i) => new SubmitView(r.Id.ToString(), r.State.ToText(), r.Existing, jobs[i].Type, jobs[i].Queue)).ToArray();
                if (asJson)
                {
                    if (views.Length == 1) Cli.WriteJson(views[0], Cli.Json.SubmitView);
                    else Cli.WriteJson(views, Cli.Json.SubmitViewArray);
                }
                else
                {
                    foreach (var r in results) Console.Out.WriteLine(r.Existing ? $"{r.Id} (existing job, {r.State.ToText()})" : r.Id.ToString());
                }
                return Cli.Ok;
            }
            return await WaitAsync(store, results, asJson, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> WaitAsync(Gantry.Hosting.Control.IGantryControl store, IReadOnlyList<JobEnqueueResult> results, bool asJson, CancellationToken ct)
    {
        var finals = new List<JobRecord>(results.Count);
        if (results.Count == 1)
        {
            if (!asJson) Console.Out.WriteLine(results[0].Id + (results[0].Existing ? " (existing job)" : ""));
            finals.Add(await ProgressWatch.FollowAsync(store, results[0].Id, draw: !asJson && ProgressWatch.Interactive, ct, quiet: asJson).ConfigureAwait(false));
        }
        else
        {
            foreach (var r in results)
            {
                while (true)
                {
                    var job = await store.JobGetAsync(r.Id, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(r.Id.ToString());
                    if (job.State.IsTerminal()) { finals.Add(job); break; }
                    await Task.Delay(100, ct).ConfigureAwait(false);
                }
            }
        }
        if (asJson)
        {
            var views = finals.Select(f => JobView.From(f, withErrors: true)).ToArray();
            if (views.Length == 1) Cli.WriteJson(views[0], Cli.Json.JobView);
            else Cli.WriteJson(views, Cli.Json.JobViewArray);
        }
        else
        {
            foreach (var f in finals) Console.Out.WriteLine(results.Count == 1 ? ProgressWatch.Outcome(f) : $"{f.Id} {ProgressWatch.Outcome(f)}");
        }
        return Cli.Outcome(finals.Select(f => f.State));
    }

    private static string PayloadArgument(string? text, JobLimits limits)
    {
        if (text is null) return "{}";
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = limits.MaxDepth });
            return doc.RootElement.GetRawText();
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException("payload", $"malformed JSON (column {(ex.BytePositionInLine ?? 0) + 1}); quote it for the shell, e.g. '{{\"ms\":500}}'");
        }
    }

    private static int ParseSize(System.CommandLine.Parsing.ArgumentResult r, string text, string where)
    {
        if (Options.Sizes.TryParse(text, out var bytes) && bytes is >= 1 and <= 256L * 1024 * 1024) return (int)bytes;
        r.AddError($"{where}: '{text}' is not a size between 1 byte and 256MiB (examples: 512KiB, 4MiB)");
        return JobLimits.MaxPayloadBytesDefault;
    }

    internal static async Task<(string Text, string Source)> ReadInputAsync(string path, JobLimits limits, CancellationToken ct, string option = "--file")
    {
        if (path == "-") return (await Console.In.ReadToEndAsync(ct).ConfigureAwait(false), "stdin");
        if (!File.Exists(path)) throw new InvalidInputException(option, $"{path} does not exist");
        var info = new FileInfo(path);
        // Room for a batch of large payloads; anything bigger is refused before it is read into memory.
        var max = (long)limits.MaxPayloadBytes * 16 + limits.MaxBatch * 4096L;
        if (info.Length > max) throw new InvalidInputException(path, $"is {info.Length:N0} bytes, over the {max:N0} bytes a submission may have");
        return (await File.ReadAllTextAsync(path, ct).ConfigureAwait(false), Path.GetFileName(path));
    }

    private static DateTimeOffset? ParseTime(System.CommandLine.Parsing.ArgumentResult r)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return t;
        r.AddError($"--run-at: '{text}' is not an ISO 8601 time (e.g. 2026-01-31T09:30:00Z)");
        return null;
    }
}
