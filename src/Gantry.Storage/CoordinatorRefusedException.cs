namespace Gantry.Storage;

/// <summary>
/// The coordinator refused what was sent for its content, not for being unreachable: a server's 400, or a store that
/// cannot hold a value (PostgreSQL's data exceptions and program limits, SQLite's text or blob too big). Sending the same
/// again is refused again, so a worker's report batcher isolates the reports it refuses instead of retrying them
/// forever, and the API answers it 400.
/// </summary>
internal sealed class CoordinatorRefusedException(string message, Exception? inner = null) : GantryException(message, inner);
