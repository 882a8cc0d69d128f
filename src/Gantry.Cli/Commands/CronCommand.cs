using System.Globalization;
using System.Text;
using Gantry.Cli.Output;
using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Server.Api;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry cron</c>: recurring jobs (add, list, show, pause, resume, trigger, remove), on a store or a server.</summary>
internal static class CronCommand
{
    public static Command Create()
    {
        var command = new Command("cron", "Recurring jobs: a cron expression in a time zone, and the job each fire enqueues (exactly one per fire time)");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Act("remove", "Remove a schedule (the jobs it made stay)", (c, n, ct) => c.ScheduleDeleteAsync(n, ct), "removed"));
        command.Subcommands.Add(Act("pause", "Pause a schedule: nothing fires until it is resumed", (c, n, ct) => c.SchedulePauseAsync(n, true, ct), "paused"));
        command.Subcommands.Add(Act("resume", "Resume a schedule; the fires that fell in the pause are not made up", (c, n, ct) => c.SchedulePauseAsync(n, false, ct), "resumed"));
        command.Subcommands.Add(Trigger());
        return command;
    }

    /// <summary>A schedule's name, checked as a schedule's name is on every link (an empty one made a path the server has no route for).</summary>
    private static Argument<string> NameArgument()
    {
        var name = new Argument<string>("name") { Description = "The schedule's name" };
        name.Validators.Add(r =>
        {
            try
            {
                ScheduleDefinition.CheckName(r.Tokens.Count > 0 ? r.Tokens[0].Value : "", "name");
            }
            catch (InvalidInputException e)
            {
                r.AddError(e.Message);
            }
        });
        return name;
    }

    private static Command Add()
    {
        var name = NameArgument();
        var cron = new Argument<string>("cron") { Description = "Five fields (minute hour day month weekday), six with seconds first, or @hourly, @daily, @weekly, @monthly" };
        var type = new Argument<string>("type") { Description = "The job type each fire enqueues" };
        var payload = new Argument<string?>("payload") { Description = "The payload of each job, as JSON (default {})", Arity = ArgumentArity.ZeroOrOne };
        var tz = new Option<string?>("--tz") { Description = $"The time zone the expression is read in, an IANA name such as Europe/Berlin (default {ScheduleDefinition.TimeZoneDefault})", HelpName = "zone" };
        var queue = new Option<string?>("--queue", "-q") { Description = "Queue of each job (default \"default\")", HelpName = "name" };
        var priority = CliOptions.OptionalCount("--priority", "Priority of each job; higher runs first (default 0)", least: int.MinValue).WithAlias("-p");
        var missed = new Option<string?>("--missed") { Description = "Fires missed while no server ran: skip (default: the next fire only), once (one job for all), all (each, up to --max-catchup)", HelpName = "skip|once|all" };
        var maxCatchup = CliOptions.OptionalCount("--max-catchup", $"With --missed all, the most missed fires made up (default {ScheduleDefinition.MaxCatchupDefault})", least: 1, most: ScheduleDefinition.MaxCatchupLimit);
        var timeout = CliOptions.Duration("--timeout", "Cancel an attempt that runs longer, e.g. 60s");
        var maxAttempts = CliOptions.OptionalCount("--max-attempts", $"Attempts before a job is dead (default {NewJob.MaxAttemptsDefault})", least: 1, most: Protocol.JobDraft.MaxAttemptsLimit);
        var tags = CliOptions.Tags("--tags", "Tags of each job, e.g. team=billing (schedule and fire_time are added)");
        var allowUnknown = new Option<bool>("--allow-unknown-type") { Description = "Accept a job type no known handler serves (for workers not started yet)" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("add", "Create a schedule, or replace the one with that name")
        {
            name, cron, type, payload, tz, queue, priority, missed, maxCatchup, timeout, maxAttempts, tags, allowUnknown, json, location, config,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var definition = new ScheduleDefinition
            {
                Name = parse.GetValue(name)!,
                Cron = parse.GetValue(cron)!,
                Type = parse.GetValue(type)!,
                Payload = parse.GetValue(payload) ?? "{}",
                TimeZone = parse.GetValue(tz) ?? ScheduleDefinition.TimeZoneDefault,
                Queue = parse.GetValue(queue) ?? NewJob.DefaultQueue,
                Priority = parse.GetValue(priority) ?? 0,
                Missed = MissedFirePolicies.Parse(parse.GetValue(missed), "--missed"),
                MaxCatchup = parse.GetValue(maxCatchup) ?? ScheduleDefinition.MaxCatchupDefault,
                Timeout = parse.GetValue(timeout)?.Value,
                MaxAttempts = parse.GetValue(maxAttempts) ?? NewJob.MaxAttemptsDefault,
                Tags = parse.GetValue(tags) ?? NewJob.NoTags,
            };
            // Checked before anything is opened: a bad expression or zone stores nothing, wherever the command goes.
            new FlagFields()
                .Add("queue", "--queue", parse.GetValue(queue) is not null)
                .Add("tz", "--tz", parse.GetValue(tz) is not null)
                .Add("timeout_seconds", "--timeout", parse.GetValue(timeout) is not null)
                .Add("max_attempts", "--max-attempts", parse.GetValue(maxAttempts) is not null)
                .Add("tags", "--tags", parse.GetValue(tags) is { Count: > 0 })
                .Check(() => definition.Validate(Protocol.JobLimits.Default));
            var settings = GantryConfig.Load(parse.GetValue(config));
            await using var control = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            var outcome = await control.ScheduleSaveAsync(definition, parse.GetValue(allowUnknown), settings.KnownJobTypes, ct).ConfigureAwait(false);
            var view = await control.ScheduleGetAsync(definition.Name, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Cli.WriteJson(view, Cli.Json.ScheduleView);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"schedule {definition.Name} {outcome.ToString().ToLowerInvariant()}; next fire {(view.NextFireTimes.Count > 0 ? Local(view.NextFireTimes[0], view.Tz) : "none")}");
            return Cli.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var command = new Command("list", "Every schedule with its next three fire times (in its zone), its last fire and the job it made") { json, location };
        command.SetHandler(async (parse, ct) =>
        {
            await using var control = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var views = await control.ScheduleListAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Cli.WriteJson(views.ToArray(), Cli.Json.ScheduleViewArray);
                return Cli.Ok;
            }
            if (views.Count == 0) { Console.Out.WriteLine("no schedules"); return Cli.Ok; }
            Console.Out.Write(JobText.Table(
                ["NAME", "CRON", "TZ", "TYPE", "QUEUE", "STATE", "NEXT FIRES", "LAST FIRE", "LAST JOB"],
                views.Select(v => new[]
                {
                    v.Name, v.Cron, v.Tz, v.Type, v.Queue, v.Paused ? "paused" : "active",
                    v.NextFireTimes.Count == 0 ? "-" : string.Join(", ", v.NextFireTimes.Select(t => Local(t, v.Tz))),
                    v.LastFireTime is { } last ? Local(last, v.Tz) : "-", v.LastJobId ?? "-",
                }).ToArray()));
            return Cli.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var name = NameArgument();
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var command = new Command("show", "One schedule: its definition, next three fire times, last fire and the job it made") { name, json, location };
        command.SetHandler(async (parse, ct) =>
        {
            await using var control = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var v = await control.ScheduleGetAsync(parse.GetValue(name)!, ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Cli.WriteJson(v, Cli.Json.ScheduleView);
                return Cli.Ok;
            }
            var sb = new StringBuilder();
            void Line(string key, string value) => sb.Append(CultureInfo.InvariantCulture, $"{key,-14}{value}\n");
            Line("name", v.Name);
            Line("cron", v.Cron);
            Line("tz", v.Tz);
            Line("type", v.Type);
            Line("payload", v.Payload.ValueKind == System.Text.Json.JsonValueKind.Undefined ? "{}" : v.Payload.GetRawText());
            Line("queue", v.Queue);
            Line("priority", $"{v.Priority}");
            Line("missed", v.Missed == "all" ? $"all (at most {v.MaxCatchup})" : v.Missed);
            if (v.TimeoutSeconds is { } t) Line("timeout", Durations.Format(TimeSpan.FromSeconds(t)));
            Line("max attempts", $"{v.MaxAttempts}");
            if (v.Tags is { Count: > 0 } tags) Line("tags", string.Join(",", tags.Select(kv => $"{kv.Key}={kv.Value}")));
            Line("state", v.Paused ? "paused" : "active");
            Line("origin", v.Origin);
            foreach (var (at, i) in v.NextFireTimes.Select((at, i) => (at, i))) Line(i == 0 ? "next fires" : "", Local(at, v.Tz));
            Line("last fire", v.LastFireTime is { } last ? Local(last, v.Tz) : "-");
            Line("last job", v.LastJobId ?? "-");
            Console.Out.Write(sb.ToString());
            return Cli.Ok;
        });
        return command;
    }

    private static Command Trigger()
    {
        var name = NameArgument();
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var command = new Command("trigger", "Fire a schedule now, once, outside its expression; prints the job's id") { name, json, location };
        command.SetHandler(async (parse, ct) =>
        {
            await using var control = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var fired = await control.ScheduleTriggerAsync(parse.GetValue(name)!, ct).ConfigureAwait(false);
            if (parse.GetValue(json)) Cli.WriteJson(fired, Cli.Json.ScheduleTriggerView);
            else Console.Out.WriteLine(fired.JobId);
            return Cli.Ok;
        });
        return command;
    }

    private static Command Act(string verb, string description, Func<Gantry.Hosting.Control.IGantryControl, string, CancellationToken, Task> act, string done)
    {
        var name = NameArgument();
        var location = CliOptions.Control();
        var command = new Command(verb, description) { name, location };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(name)!;
            await using var control = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            await act(control, n, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"schedule {n} {done}");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>A fire time in the schedule's zone, as people read it: <c>2026-03-29 03:00:00 +02:00</c>.</summary>
    private static string Local(DateTimeOffset at, string zone)
    {
        try
        {
            var z = TimeZoneInfo.FindSystemTimeZoneById(zone);
            return TimeZoneInfo.ConvertTime(at, z).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        }
    }
}
