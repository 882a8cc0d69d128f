using Gantry.Cli.Output;
using Gantry.Storage;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry queues retention [NAME --succeeded 1d --dead 30d --cancelled 7d | --default]</c>: how long a queue's finished jobs are kept.</summary>
internal static class QueueRetentionCommand
{
    public static Command Create()
    {
        var queue = new Argument<string?>("queue") { Description = "The queue; without one, list the queues with a retention of their own", Arity = ArgumentArity.ZeroOrOne };
        var succeeded = CliOptions.Duration("--succeeded", "Keep succeeded jobs this long, e.g. 1d");
        var dead = CliOptions.Duration("--dead", "Keep dead jobs this long, e.g. 30d");
        var cancelled = CliOptions.Duration("--cancelled", "Keep cancelled jobs this long, e.g. 7d");
        var reset = new Option<bool>("--default") { Description = "Drop the queue's own retention: every state keeps the default (--retention of the server, 7d)" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var command = new Command("retention", "Set how long a queue's finished jobs are kept, per state (states not given keep the default); without flags, show it")
        {
            queue, succeeded, dead, cancelled, reset, json, location,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var name = parse.GetValue(queue);
            var (s, d, c) = (parse.GetValue(succeeded)?.Value, parse.GetValue(dead)?.Value, parse.GetValue(cancelled)?.Value);
            var setting = s is not null || d is not null || c is not null;
            if (name is not null) Protocol.JobDraft.CheckName(name, "queue");
            if ((setting || parse.GetValue(reset)) && name is null) throw new InvalidInputException("queues retention", "name the queue to set");
            if (setting && parse.GetValue(reset)) throw new InvalidInputException("--default", "give it alone, without --succeeded, --dead or --cancelled");
            await using var control = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            if (setting || parse.GetValue(reset))
            {
                await control.QueueRetentionSetAsync(new QueueRetention(name!, s, d, c).Validated(state => "--" + state), ct).ConfigureAwait(false);
                Console.Out.WriteLine(setting
                    ? $"queue {name} keeps {string.Join(", ", new[] { ("succeeded", s), ("dead", d), ("cancelled", c) }.Where(x => x.Item2 is not null).Select(x => $"{x.Item1} jobs {Durations.Format(x.Item2!.Value)}"))}; other states the default"
                    : $"queue {name} keeps the default retention");
                return Cli.Ok;
            }
            var all = await control.QueueRetentionListAsync(ct).ConfigureAwait(false);
            var views = name is null ? all : all.Where(v => v.Queue == name).ToArray();
            if (parse.GetValue(json))
            {
                Cli.WriteJson(views.ToArray(), Cli.Json.QueueRetentionViewArray);
                return Cli.Ok;
            }
            if (views.Count == 0) { Console.Out.WriteLine(name is null ? "every queue keeps the default retention" : $"queue {name} keeps the default retention"); return Cli.Ok; }
            static string Show(double? seconds) => seconds is { } v ? Durations.Format(TimeSpan.FromSeconds(v)) : "default";
            Console.Out.Write(JobText.Table(["QUEUE", "SUCCEEDED", "DEAD", "CANCELLED"],
                views.Select(v => new[] { v.Queue, Show(v.SucceededSeconds), Show(v.DeadSeconds), Show(v.CancelledSeconds) }).ToArray()));
            return Cli.Ok;
        });
        return command;
    }
}
