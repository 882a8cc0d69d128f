namespace Gantry.Worker.Handlers.Process;

/// <summary>A process handler exited unsuccessfully; the message holds its last stderr lines or the reason.</summary>
internal sealed class ProcessHandlerFailedException(string message) : Exception(message);
