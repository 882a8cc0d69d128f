using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>
/// One maintenance loop: <see cref="RunOnceAsync"/> (which tests call directly), then a wait.
/// A failing round is logged and the loop starts again after a growing pause (<see cref="ResilientService"/>).
/// </summary>
public abstract class MaintenanceService(ILogger logger, TimeProvider time) : ResilientService(logger, time)
{

    /// <summary>Does one round of work; returns how many jobs it changed.</summary>
    public abstract Task<int> RunOnceAsync(CancellationToken ct);

    /// <summary>Waits until the next round is due.</summary>
    protected abstract Task WaitAsync(CancellationToken ct);

    /// <summary>The wait between two rounds, for tests that drive the loop on a fake clock.</summary>
    internal Task WaitForNextRoundAsync(CancellationToken ct) => WaitAsync(ct);

    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            await WaitAsync(stoppingToken).ConfigureAwait(false);
        }
    }
}

internal static partial class MaintenanceLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Rescued {Count} job(s) whose worker stopped renewing the lease")]
    public static partial void Rescued(ILogger logger, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Promoted {Count} due job(s) to queued")]
    public static partial void Promoted(ILogger logger, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Deleted {Count} finished job(s) older than {RetentionDays} days")]
    public static partial void Cleaned(ILogger logger, int count, double retentionDays);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Worker {WorkerId} silent for {SilentSeconds:0}s: marked dead, {Jobs} running job(s) released")]
    public static partial void WorkerDead(ILogger logger, string workerId, double silentSeconds, int jobs);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Store upkeep cleared about {Rows} dead row(s)")]
    public static partial void Upkept(ILogger logger, long rows);
}
