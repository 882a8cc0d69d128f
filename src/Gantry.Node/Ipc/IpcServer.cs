using System.Net.Sockets;
using Gantry.Worker.Links.Ipc;
using Microsoft.Extensions.Logging;

namespace Gantry.Node.Ipc;

/// <summary>
/// The node's Unix domain socket. Its directory is the node's own (made 0700, inside a run directory that
/// may be shared and is left as it is) and the socket 0600, so only the node's user can connect. A connection's first message says who it is: a worker's
/// <see cref="IpcMessageType.Hello"/> (matched to the slot that spawned it) or a
/// <see cref="IpcMessageType.Status"/> request from <c>gantry node status</c>.
/// </summary>
internal sealed class IpcServer(string runDirectory, string socketPath, Func<IpcConnection, IpcHello, WorkerSession?> attach, Func<string> status, ILogger logger) : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;

    public async Task StartAsync(CancellationToken ct)
    {
        PrivateDirectory.Make(runDirectory);
        if (File.Exists(socketPath))
        {
            if (await AnswersAsync(socketPath, ct).ConfigureAwait(false))
                throw new GantryException($"another node is running on {socketPath} (stop it, or give this one its own --run-dir)");
            File.Delete(socketPath); // Left by a node that died.
        }
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(256);
        _acceptLoop = Task.Run(() => AcceptLoopAsync(_stop.Token), CancellationToken.None);
    }

    private static async Task<bool> AnswersAsync(string path, CancellationToken ct)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || (ex is SocketException && ct.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException ex)
            {
                NodeLog.IpcProblem(logger, $"accept failed: {ex.Message}");
                continue;
            }
            Serve(new IpcConnection(socket));
        }
    }

    private void Serve(IpcConnection connection)
    {
        WorkerSession? session = null;
        connection.Start((c, type, id, body) =>
        {
            if (session is not null)
            {
                session.OnMessage(c, type, id, body);
                return;
            }
            var reader = new FrameReader(body);
            switch (type)
            {
                case IpcMessageType.Hello:
                    IpcHello hello;
                    try
                    {
                        hello = IpcFrames.ReadHello(ref reader);
                    }
                    catch (InvalidDataException ex)
                    {
                        c.SendError(id, ex.Message);
                        _ = c.DisposeAsync().AsTask();
                        return;
                    }
                    session = attach(c, hello);
                    if (session is null)
                    {
                        NodeLog.IpcProblem(logger, $"refused a worker that says it is {hello.LocalId} (pid {hello.ProcessId}): the node did not start it, or is stopping");
                        c.SendError(id, $"this node has no worker {hello.LocalId} starting with pid {hello.ProcessId}");
                        _ = c.DisposeAsync().AsTask();
                        return;
                    }
                    c.Send(IpcMessageType.Hello | IpcMessageType.ResponseBit, id);
                    return;
                case IpcMessageType.Status:
                    c.Send(IpcMessageType.Status | IpcMessageType.ResponseBit, id, status(), static (w, json) => w.String(json));
                    return;
                default:
                    if (id != 0) c.SendError(id, "say hello first");
                    _ = c.DisposeAsync().AsTask();
                    return;
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        try { File.Delete(socketPath); } catch (IOException) { }
        _stop.Dispose();
    }
}
