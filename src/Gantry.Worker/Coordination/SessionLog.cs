using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Coordination;

/// <summary>The coordinator session's log messages, with stable event ids.</summary>
internal static partial class SessionLog
{
    [LoggerMessage(EventId = 1030, Level = LogLevel.Warning, Message = "The coordinator could not be reached ({Operation}): {Cause}")]
    public static partial void LinkError(ILogger logger, string operation, string cause);
}
