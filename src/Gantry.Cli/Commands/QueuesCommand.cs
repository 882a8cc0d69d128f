using System.CommandLine;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;
using Gantry.Cli.Output;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry queues</c>: counts per state per queue.</summary>
internal static class QueuesCommand
{
    public static Command Create()
    {
        var json = CliOptions.Json();
        var location = CliOptions.StoreLocation();
        var config = CliOptions.Config();
        var command = new Command("queues", "Show how many jobs each queue holds in each state") { json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var views = (await store.QueueStatsAsync(ct).ConfigureAwait(false)).Select(QueueView.From).ToArray();
            if (parse.GetValue(json))
            {
                Cli.WriteJson(views, Cli.Json.QueueViewArray);
                return Cli.Ok;
            }
            if (views.Length == 0) { Console.Out.WriteLine("no jobs"); return Cli.Ok; }
            Console.Out.Write(JobText.Table(
                ["QUEUE", "WAITING", "SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "DEAD", "CANCELLED"],
                views.Select(v => new[] { v.Queue, $"{v.Waiting}", $"{v.Scheduled}", $"{v.Queued}", $"{v.Running}", $"{v.Succeeded}", $"{v.Dead}", $"{v.Cancelled}" }).ToArray()));
            return Cli.Ok;
        });
        return command;
    }
}
