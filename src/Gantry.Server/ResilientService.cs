using Gantry.Time;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server;

/// <summary>
/// A background service that never stops its host: when <see cref="RunAsync"/> throws, the failure is logged with
/// its cause and the service starts again after a pause that doubles per failure in a row (<see cref="RetryPause"/>).
/// An exception escaping a plain <see cref="BackgroundService"/> stops the whole process (and with exit code 0), so
/// every long-running service of the coordinator (intake, maintenance, leader election) derives from this one.
/// </summary>
public abstract partial class ResilientService(ILogger logger, TimeProvider time) : BackgroundService
{
    /// <summary>Where the service logs; its failures are logged here too.</summary>
    protected ILogger Logger { get; } = logger;
    /// <summary>The clock the service waits on (a fake one in tests).</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>The pause after a first failure; doubled per failure in a row, up to <see cref="RetryPause.Max"/>.</summary>
    protected virtual TimeSpan FirstPause => TimeSpan.FromSeconds(1);

    /// <summary>A run that lasted this long before it failed counts as recovered: the next pause is the first again.</summary>
    protected virtual TimeSpan HealthyAfter => TimeSpan.FromMinutes(1);

    /// <summary>Times the service was started again after a failure.</summary>
    internal int Restarts { get; private set; }

    /// <summary>The service's work until <paramref name="stoppingToken"/> fires; any exception restarts it.</summary>
    protected abstract Task RunAsync(CancellationToken stoppingToken);

    /// <inheritdoc/>
    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = FirstPause;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = Time.GetUtcNow();
            try
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (Time.GetUtcNow() - started >= HealthyAfter) pause = FirstPause;
                Log.Restarting(Logger, ex, GetType().Name, pause.TotalSeconds);
                try { await Task.Delay(pause, Time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                pause = RetryPause.After(pause);
                Restarts++;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Error, Message = "{Service} failed; starting it again in {PauseSeconds:0.##}s")]
        public static partial void Restarting(ILogger logger, Exception exception, string service, double pauseSeconds);
    }
}
