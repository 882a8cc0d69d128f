using Microsoft.Extensions.Logging;

namespace Gantry.Server.Leadership;

internal static partial class LeaderLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Elected leader of {Name} as {HolderId}: starting {Count} maintenance service(s)")]
    public static partial void Elected(ILogger logger, string name, string holderId, int count);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "No longer leader of {Name} ({Reason}): maintenance services stopped")]
    public static partial void Lost(ILogger logger, string name, string reason);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Leader election for {Name} failed; trying again in {RetrySeconds}s")]
    public static partial void ElectFailed(ILogger logger, Exception exception, string name, double retrySeconds);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Standing by: another process leads {Name}")]
    public static partial void Standby(ILogger logger, string name);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Resigned leadership of {Name}")]
    public static partial void Resigned(ILogger logger, string name);
}
