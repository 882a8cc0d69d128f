using Gantry.Storage;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry workers drain|pause|resume|shutdown &lt;id&gt;</c>: control commands a worker picks up within a second.</summary>
internal static class WorkerControlCommands
{
    public static IEnumerable<Command> Create() =>
    [
        Control("drain", WorkerCommandKind.Drain,
            "Drain a worker: it claims nothing more, finishes what it runs (up to its --drain-timeout; the rest is checkpointed and requeued), deregisters and exits",
            "will drain and exit"),
        Control("pause", WorkerCommandKind.Pause, "Pause a worker: it claims nothing new until resumed; running jobs go on", "will pause"),
        Control("resume", WorkerCommandKind.Resume, "Resume a paused worker", "will resume"),
        Control("shutdown", WorkerCommandKind.Shutdown,
            "Shut a worker down now: running jobs are interrupted (checkpointed where they can be) and requeued without using an attempt; it deregisters and exits",
            "will shut down"),
    ];

    private static Command Control(string name, WorkerCommandKind kind, string description, string outcome)
    {
        var id = new Argument<string>("id") { Description = "The worker's id (see gantry workers)" };
        // No worker has a blank id; through a server it made a path with no route.
        id.Validators.Add(r => { if (r.Tokens.Count > 0 && string.IsNullOrWhiteSpace(r.Tokens[0].Value)) r.AddError("id: is required (see gantry workers)"); });
        var location = CliOptions.Control();
        var command = new Command(name, description) { id, location };
        command.SetHandler(async (parse, ct) =>
        {
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var workerId = parse.GetValue(id)!;
            await store.WorkerCommandSendAsync(workerId, kind, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"worker {workerId} {outcome}");
            return Cli.Ok;
        });
        return command;
    }
}
