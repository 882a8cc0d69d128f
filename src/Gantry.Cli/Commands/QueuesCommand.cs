using Gantry.Cli.Output;
using Gantry.Server.Api;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry queues</c>: counts per state per queue.</summary>
internal static class QueuesCommand
{
    public static Command Create()
    {
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("queues", "Show how many jobs each queue holds in each state") { json, location, config };
        command.Subcommands.Add(Pause("pause", "Pause a queue: nothing is claimed from it until resumed; running jobs go on", (s, q, ct) => s.QueuePauseAsync(q, ct), "paused"));
        command.Subcommands.Add(QueueRetentionCommand.Create());
        command.Subcommands.Add(Pause("resume", "Resume a paused queue", (s, q, ct) => s.QueueResumeAsync(q, ct), "resumed"));
        command.Subcommands.Add(Limit());
        command.Subcommands.Add(Keys());
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var views = await store.QueueListAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Cli.WriteJson(views.ToArray(), Cli.Json.QueueViewArray);
                return Cli.Ok;
            }
            if (views.Count == 0) { Console.Out.WriteLine("no jobs"); return Cli.Ok; }
            Console.Out.Write(JobText.Table(
                ["QUEUE", "WAITING", "SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "DEAD", "CANCELLED", "DONE/MIN", "OLDEST QUEUED", "LIMITS"],
                views.Select(v => new[]
                {
                    v.Paused ? $"{v.Queue} (paused)" : v.Queue, $"{v.Waiting}", $"{v.Scheduled}", $"{v.Queued}", $"{v.Running}", $"{v.Succeeded}", $"{v.Dead}", $"{v.Cancelled}",
                    $"{v.CompletedPerMinute}", v.OldestQueuedAgeSeconds is { } age ? Durations.Rough(TimeSpan.FromSeconds(age)) : "-", LimitsText(v.Limits),
                }).ToArray()));
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>For the table: <c>running 3/10, per key 2, rate 40/100/s, rate per key 5/s, 7 held back, 2 keys at their limit</c>; "-" without limits.</summary>
    private static string LimitsText(QueueLimitsView? l)
    {
        if (l is null) return "-";
        var parts = new List<string>();
        parts.Add(l.Concurrency is { } c ? $"running {l.Running}/{c}" : $"running {l.Running}");
        if (l.PerKey is { } k) parts.Add($"per key {k}");
        if (l.Rate is { } r) parts.Add($"rate {l.StartedInWindow}/{r}");
        if (l.RatePerKey is { } kr) parts.Add($"rate per key {kr}");
        if (l.HeldBack > 0) parts.Add($"{l.HeldBack} held back");
        if (l.KeysAtLimit > 0) parts.Add(l.KeysAtLimit == 1 ? "1 key at its limit" : $"{l.KeysAtLimit} keys at their limit");
        return string.Join(", ", parts);
    }

    /// <summary><c>gantry queues limit NAME --concurrency N | --per-key N | --rate 100/s | --rate-per-key 5/s | --clear</c>.</summary>
    private static Command Limit()
    {
        var queue = new Argument<string>("queue") { Description = "The queue's name" };
        var concurrency = CliOptions.OptionalCount("--concurrency", "At most this many of the queue's jobs run at once, cluster-wide", least: 1, most: Gantry.Flow.QueueLimits.MaxLimit);
        var perKey = CliOptions.OptionalCount("--per-key", "At most this many jobs of one concurrency_key run at once; keys are served in turn", least: 1, most: Gantry.Flow.QueueLimits.MaxLimit);
        var rate = CliOptions.Rate("--rate", "At most this many starts in any window: 100/s, 600/m, 1000/h");
        var ratePerKey = CliOptions.Rate("--rate-per-key", "At most this many starts of one concurrency_key in any window: 5/s, 60/m, 100/h; keys are served in turn");
        var clear = new Option<bool>("--clear") { Description = "Remove every limit of the queue" };
        var location = CliOptions.Control();
        var command = new Command("limit", "Set a queue's flow limits (given ones replace, others stay), or --clear them") { queue, concurrency, perKey, rate, ratePerKey, clear, location };
        command.SetHandler(async (parse, ct) =>
        {
            var q = parse.GetValue(queue)!;
            Protocol.JobDraft.CheckName(q, "queue");
            var given = new Flow.QueueLimits
            {
                Concurrency = parse.GetValue(concurrency),
                PerKey = parse.GetValue(perKey),
                Rate = parse.GetValue(rate),
                RatePerKey = parse.GetValue(ratePerKey),
            };
            if (parse.GetValue(clear) && !given.IsEmpty) throw new InvalidInputException("--clear", "give --clear alone, without limits");
            if (!parse.GetValue(clear) && given.IsEmpty) throw new InvalidInputException("limit", "give --concurrency, --per-key, --rate and/or --rate-per-key, or --clear");
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            if (parse.GetValue(clear))
            {
                await store.QueueLimitsClearAsync(q, ct).ConfigureAwait(false);
                Console.Out.WriteLine($"queue {q}: limits cleared");
                return Cli.Ok;
            }
            // The limits given replace those of the same kind; the others stay.
            var current = (await store.QueueListAsync(ct).ConfigureAwait(false)).FirstOrDefault(v => v.Queue == q)?.Limits?.ToLimits() ?? new Flow.QueueLimits();
            var limits = new Flow.QueueLimits
            {
                Concurrency = given.Concurrency ?? current.Concurrency,
                PerKey = given.PerKey ?? current.PerKey,
                Rate = given.Rate ?? current.Rate,
                RatePerKey = given.RatePerKey ?? current.RatePerKey,
            };
            await store.QueueLimitsSetAsync(q, limits, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"queue {q}: {limits}");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry queues keys NAME [--at-limit] [--after KEY] [--limit N]</c>: a per-key queue's keys, which of them its limit holds back.</summary>
    private static Command Keys()
    {
        var queue = new Argument<string>("queue") { Description = "The queue's name (limited per key)" };
        var atLimit = new Option<bool>("--at-limit") { Description = "Only the keys the per-key limit holds back now: their running jobs fill it while more wait" };
        var after = new Option<string?>("--after") { Description = "Only keys after this one (the next page: what the last page ended with)", HelpName = "key" };
        var limit = CliOptions.Count("--limit", "At most this many keys", Flow.QueueKeysQuery.DefaultLimit, least: 1, most: Flow.QueueKeysQuery.MaxLimit);
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var command = new Command("keys", "List a per-key queue's concurrency keys with jobs queued or running, in key order: each key's queued and running jobs, and whether the limit holds it back")
            { queue, atLimit, after, limit, json, location };
        command.SetHandler(async (parse, ct) =>
        {
            var query = new Flow.QueueKeysQuery(parse.GetValue(queue)!) { After = parse.GetValue(after), Limit = parse.GetValue(limit), AtLimitOnly = parse.GetValue(atLimit) };
            try
            {
                query.Validated();
            }
            catch (InvalidInputException e) when (e.Where == "name" || e.Where == "after")
            {
                throw new InvalidInputException(e.Where == "name" ? "queue" : "--after", e.Problem);
            }
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var page = await store.QueueKeysListAsync(query, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Cli.WriteJson(page, Cli.Json.QueueKeysView);
                return Cli.Ok;
            }
            var limits = string.Join(", ", new[] { page.PerKey is { } k ? $"per key {k}" : null, page.RatePerKey is { } r ? $"rate per key {r}" : null }.OfType<string>());
            if (page.Keys.Length == 0)
            {
                Console.Out.WriteLine(query.AtLimitOnly ? $"queue {page.Queue} ({limits}): no key at its limit" : $"queue {page.Queue} ({limits}): no key has jobs queued or running");
                return Cli.Ok;
            }
            // Starts in the window only under a rate per key.
            var rate = page.RatePerKey is not null;
            Console.Out.Write(JobText.Table(["KEY", "QUEUED", "RUNNING", .. rate ? ["STARTED IN WINDOW"] : Array.Empty<string>(), "AT LIMIT"],
                page.Keys.Select(k => (string[])[k.Key ?? "(no key)", $"{k.Queued}", $"{k.Running}", .. rate ? [$"{k.StartedInWindow}"] : Array.Empty<string>(),
                    k.AtLimit ? "yes" : "-"]).ToArray()));
            // --after=VALUE, so that a key starting with '-' is not read as an option; an empty one (just after the jobs
            // without a key) as its own word, which the parser takes.
            if (page.NextAfter is { } next)
                Console.Out.WriteLine($"more: gantry queues keys {page.Queue} {(next.Length == 0 ? "--after ''" : $"--after='{JobText.Printable(next).Replace("'", "'\\''", StringComparison.Ordinal)}'")}");
            return Cli.Ok;
        });
        return command;
    }

    private static Command Pause(string name, string description, Func<Gantry.Hosting.Control.IGantryControl, string, CancellationToken, Task> act, string done)
    {
        var queue = new Argument<string>("queue") { Description = "The queue's name" };
        var location = CliOptions.Control();
        var command = new Command(name, description) { queue, location };
        command.SetHandler(async (parse, ct) =>
        {
            var q = parse.GetValue(queue)!;
            Protocol.JobDraft.CheckName(q, "queue");
            await using var store = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            await act(store, q, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"queue {q} {done}");
            return Cli.Ok;
        });
        return command;
    }
}
