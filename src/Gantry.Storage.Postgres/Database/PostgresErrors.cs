using System.Net.Sockets;
using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// Turns Npgsql's errors into one-line <see cref="GantryException"/>s naming the server
/// (host and port) and the reason; nothing above the store sees an NpgsqlException.
/// </summary>
internal static class PostgresErrors
{
    public static GantryException Translate(Exception ex, string server) => ex switch
    {
        PostgresException pg => pg.SqlState switch
        {
            PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
                new StoreUnavailableException($"PostgreSQL at {server} refused the login: {pg.MessageText}", ex),
            PostgresErrorCodes.InvalidCatalogName =>
                new StoreUnavailableException($"PostgreSQL at {server}: {pg.MessageText} (create it first, e.g. createdb)", ex),
            PostgresErrorCodes.InsufficientPrivilege =>
                new StoreUnavailableException($"PostgreSQL at {server}: permission denied: {pg.MessageText}", ex),
            PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown =>
                new StoreUnavailableException($"PostgreSQL at {server} is not accepting connections: {pg.MessageText}", ex),
            // Class 22 (data exception) and 54 (program limit exceeded): the value, not the server, is the problem.
            ['2', '2', ..] or ['5', '4', ..] => new CoordinatorRefusedException($"PostgreSQL at {server} refused a value: {pg.MessageText}", ex),
            _ => new StoreUnavailableException($"PostgreSQL at {server}: {pg.MessageText}", ex),
        },
        NpgsqlException { InnerException: SocketException se } =>
            new StoreUnavailableException($"cannot reach PostgreSQL at {server}: {SocketReason(se)}", ex),
        NpgsqlException { InnerException: TimeoutException } =>
            new StoreUnavailableException($"cannot reach PostgreSQL at {server}: timed out connecting", ex),
        NpgsqlException { InnerException: IOException io } =>
            new StoreUnavailableException($"lost the connection to PostgreSQL at {server}: {io.Message.TrimEnd('.')}", ex),
        _ => new StoreUnavailableException($"PostgreSQL at {server}: {ex.Message.TrimEnd('.')}", ex),
    };

    public static bool IsBackendError(Exception ex) => ex is NpgsqlException;

    private static string SocketReason(SocketException se) => se.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "unknown host",
        SocketError.TimedOut => "timed out",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "host unreachable",
        _ => se.Message.TrimEnd('.').ToLowerInvariant(),
    };
}
