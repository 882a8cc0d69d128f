namespace Gantry.Worker.Links;

/// <summary>
/// The coordinator refused what a link sent for its content (a server's 400), not for being unreachable: sending the same
/// again is refused again. The report batcher then isolates the reports it refuses instead of retrying them forever.
/// </summary>
internal sealed class CoordinatorRefusedException(string message) : GantryException(message);
