using System.CommandLine;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry workers</c>: the worker registry, and control of one worker.</summary>
internal static class WorkersCommand
{
    public static Command Create()
    {
        var command = new Command("workers", "Workers in the registry; drain, pause or resume one");
        foreach (var sub in WorkerControlCommands.Create()) command.Subcommands.Add(sub);
        return command;
    }
}
