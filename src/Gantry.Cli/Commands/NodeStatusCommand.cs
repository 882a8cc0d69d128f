using System.Net.Sockets;
using System.Text.Json;
using Gantry.Cli.Output;
using Gantry.Node.Status;
using Gantry.Worker.Links.Ipc;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry node status</c>: asks the node on this machine, over its socket, about every worker it manages.</summary>
internal static class NodeStatusCommand
{
    public static Command Create()
    {
        var runDir = NodeCliOptions.RunDirectory();
        var json = CliOptions.Json();
        var command = new Command("status", "Show the node on this machine and its workers: local id, pid, state, restarts, last error, uptime, jobs succeeded and failed") { runDir, json };
        command.SetHandler(async (parse, ct) =>
        {
            var socket = Gantry.Node.NodeOptions.SocketIn(CliOptions.FullPath(parse.GetValue(runDir), "--run-dir"));
            IpcConnection connection;
            try
            {
                connection = await IpcConnection.ConnectAsync(socket, ct).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new GantryException(IpcSocketErrors.Describe(ex, socket));
            }
            await using var _ = connection.ConfigureAwait(false);
            connection.Start(static (_, _, _, _) => { });
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var text = await connection.RequestAsync<object?, string>(IpcMessageType.Status, null, null, static (ref FrameReader r) => r.RequiredString(), timeout.Token).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(text);
                return Cli.Ok;
            }
            var status = JsonSerializer.Deserialize(text, NodeStatusJson.Default.NodeStatus)!;
            Console.Out.WriteLine($"node {status.NodeId}{(status.Name is null ? "" : $" \"{status.Name}\"")} (pid {status.Pid}) {status.State} on {status.Link}; workers {status.MinWorkers}–{status.MaxWorkers} of capacity {status.WorkerCapacity}");
            Console.Out.Write(ManagedWorkerText.Table(status.Workers, DateTimeOffset.UtcNow));
            return Cli.Ok;
        });
        return command;
    }
}
