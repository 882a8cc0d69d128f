using System.Net.Sockets;

namespace Gantry.Worker.Links.Ipc;

/// <summary>What a failed connect to a node's socket means, in words (the runtime says "Cannot assign requested address" for a missing socket).</summary>
public static class IpcSocketErrors
{
    /// <summary>A one-line message for a failed connect to <paramref name="socketPath"/>: no socket, a socket no node listens on, another user's node, or the runtime's words.</summary>
    public static string Describe(SocketException ex, string socketPath) => ex.SocketErrorCode switch
    {
        SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !File.Exists(socketPath) =>
            $"no node is running on {socketPath}: the socket does not exist (start one with gantry node, or name its --run-dir)",
        SocketError.AddressNotAvailable when File.Exists(socketPath) =>
            $"{socketPath} is not a node's socket",
        SocketError.ConnectionRefused =>
            $"no node is listening on {socketPath}: the socket is left from a node that stopped",
        SocketError.AccessDenied =>
            $"permission denied on {socketPath}: the node runs as another user",
        _ => $"cannot reach the node at {socketPath}: {ex.Message}",
    };
}
