namespace Gantry.Handlers;

/// <summary>
/// Implemented by a handler that can say where it is at any moment. The runtime asks for its state
/// every checkpoint interval (default 5 minutes; set per job type at registration or per job with
/// <c>checkpoint_interval_seconds</c>) and once more before a graceful cancellation, drain or
/// shutdown, and saves it as the attempt's checkpoint. Called from another thread than the
/// handler's: return a consistent snapshot (a JSON-serialisable value or bytes).
/// </summary>
public interface ICheckpointSource
{
    /// <summary>The handler's state now, saved as the attempt's checkpoint: a JSON-serialisable value, or bytes (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>) kept as they are. Called from another thread than the handler's.</summary>
    object? CaptureCheckpoint();
}
