using Gantry.Cli.Output;
using Gantry.Storage;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry workers</c>: the worker registry. Its own action lists workers; subcommands that act on
/// one worker (drain, pause, resume) hang under it.</summary>
internal static class WorkersCommand
{
    public static Command Create()
    {
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var all = new Option<bool>("--all") { Description = "Include workers that stopped or died (default: running, paused and draining ones, plus any holding jobs)" };
        var command = new Command("workers", "List workers: state, capacity used, queues, last heartbeat, running jobs; drain, pause or resume one") { json, location, all };
        foreach (var sub in WorkerControlCommands.Create()) command.Subcommands.Add(sub);
        command.SetHandler(async (parse, ct) =>
        {
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var views = (await store.WorkerListAsync(parse.GetValue(all), ct).ConfigureAwait(false)).ToArray();
            if (parse.GetValue(json))
            {
                Cli.WriteJson(views, Cli.Json.WorkerViewArray);
                return Cli.Ok;
            }
            if (views.Length == 0) { Console.Out.WriteLine(parse.GetValue(all) ? "no workers" : "no live workers (--all shows stopped and dead ones)"); return Cli.Ok; }
            var now = DateTimeOffset.UtcNow;
            Console.Out.Write(JobText.Table(
                ["ID", "NAME", "HOST", "PID", "STATE", "USED/CAP", "QUEUES", "LAST HEARTBEAT", "RUNNING JOBS"],
                views.Select(v => new[]
                {
                    v.Id, v.Name ?? "-", v.Host, $"{v.Pid}", v.State, $"{v.CapacityUsed}/{v.Capacity}",
                    string.Join(",", v.Queues.Select(q => $"{q.Key}:{q.Value}")),
                    $"{Durations.Rough(now - v.LastHeartbeatAt < TimeSpan.Zero ? TimeSpan.Zero : now - v.LastHeartbeatAt)} ago",
                    RunningIds(v.RunningJobIds),
                }).ToArray()));
            // A node's worker processes, under it.
            foreach (var node in views.Where(v => v.Managed is { Count: > 0 }))
            {
                Console.Out.WriteLine($"\nnode {node.Id}{(node.Name is null ? "" : $" \"{node.Name}\"")} manages:");
                Console.Out.Write(ManagedWorkerText.Table(node.Managed!, now, "  "));
            }
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>A few ids in the table; --json has them all.</summary>
    private static string RunningIds(IReadOnlyList<Guid> ids) =>
        ids.Count == 0 ? "-" : string.Join(",", ids.Take(3)) + (ids.Count > 3 ? $" (+{ids.Count - 3} more)" : "");
}
