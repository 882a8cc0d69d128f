using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>
/// One maintenance loop: <see cref="RunOnceAsync"/> (which tests call directly), then a wait.
/// An exception is logged and the loop goes on: one escaping a BackgroundService would stop the host.
/// </summary>
public abstract class MaintenanceService(ILogger logger, TimeProvider time) : BackgroundService
{
    protected ILogger Logger { get; } = logger;
    protected TimeProvider Time { get; } = time;

    /// <summary>Does one round of work; returns how many jobs it changed.</summary>
    public abstract Task<int> RunOnceAsync(CancellationToken ct);

    /// <summary>Waits until the next round is due.</summary>
    protected abstract Task WaitAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                await WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                MaintenanceLog.Failed(Logger, ex, GetType().Name);
                try { await Task.Delay(TimeSpan.FromSeconds(1), Time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
        }
    }
}

internal static partial class MaintenanceLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "{Service} failed; it will try again")]
    public static partial void Failed(ILogger logger, Exception exception, string service);

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
