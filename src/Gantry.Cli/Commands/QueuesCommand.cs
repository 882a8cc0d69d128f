using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
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
                ["QUEUE", "WAITING", "SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "DEAD", "CANCELLED", "DONE/MIN", "OLDEST QUEUED"],
                views.Select(v => new[]
                {
                    v.Paused ? $"{v.Queue} (paused)" : v.Queue, $"{v.Waiting}", $"{v.Scheduled}", $"{v.Queued}", $"{v.Running}", $"{v.Succeeded}", $"{v.Dead}", $"{v.Cancelled}",
                    $"{v.CompletedPerMinute}", v.OldestQueuedAgeSeconds is { } age ? Durations.Rough(TimeSpan.FromSeconds(age)) : "-",
                }).ToArray()));
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
