using Npgsql;
using Gantry.Time;

namespace Gantry.Storage.Postgres;

/// <summary>
/// One connection per store that LISTENs on the store's channel and turns notifications into
/// <see cref="StoreSignals"/>, so a worker in this process wakes when another process enqueues.
/// When the connection breaks it reconnects with a growing pause and raises every signal once:
/// notifications sent while it was away are lost, and the woken worker looks for itself.
/// </summary>
internal sealed class PostgresListener : IAsyncDisposable
{
    private static readonly TimeSpan RetryMin = TimeSpan.FromMilliseconds(200);

    private readonly string _connectionString;
    private readonly string _channel;
    private readonly StoreSignals _signals;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    private PostgresListener(string connectionString, string channel, StoreSignals signals)
    {
        _connectionString = connectionString;
        _channel = channel;
        _signals = signals;
    }

    /// <summary>Completes the first time the connection is listening.</summary>
    public Task Listening => _listening.Task;

    public static PostgresListener Start(string connectionString, string channel, StoreSignals signals, CancellationToken stopping)
    {
        var listener = new PostgresListener(connectionString, channel, signals);
        listener._loop = Task.Run(() => listener.RunAsync(stopping), CancellationToken.None);
        return listener;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var pause = RetryMin;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var c = new NpgsqlConnection(_connectionString);
                c.Notification += (_, e) => Raise(e.Payload);
                await c.OpenAsync(ct).ConfigureAwait(false);
                await using (var cmd = c.CreateCommand())
                {
                    cmd.CommandText = $"LISTEN \"{_channel}\"";
                    await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                pause = RetryMin;
                _signals.CrossProcess = true;
                if (!_listening.TrySetResult()) RaiseAll(); // a reconnect: anything sent meanwhile was missed
                while (true) await c.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return; // the store is closing
            }
            catch (Exception)
            {
                // Until it listens again, waiters look for themselves at their own short poll intervals.
                if (_signals.CrossProcess)
                {
                    _signals.CrossProcess = false;
                    RaiseAll();
                }
                // Whatever broke the connection (server gone, network, a failover), the loop must live on:
                // a listener that died quietly would leave workers on polling alone.
                // The store's own statements report the outage; here we only come back when the server does.
                try { await Task.Delay(pause, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                pause = RetryPause.After(pause);
            }
        }
    }

    private void Raise(string payload)
    {
        switch (payload)
        {
            case PostgresNotifications.Jobs: _signals.JobsAvailable.Set(); break;
            case PostgresNotifications.Commands: _signals.CommandsAvailable.Set(); break;
            case PostgresNotifications.Schedule: _signals.ScheduleChanged.Set(); break;
            case PostgresNotifications.Schedules: _signals.SchedulesChanged.Set(); break;
            case PostgresNotifications.Ended: _signals.JobsEnded.Set(); break;
            default: RaiseAll(); break;
        }
    }

    private void RaiseAll()
    {
        _signals.JobsAvailable.Set();
        _signals.CommandsAvailable.Set();
        _signals.ScheduleChanged.Set();
        _signals.SchedulesChanged.Set();
        _signals.JobsEnded.Set();
    }

    public async ValueTask DisposeAsync()
    {
        try { await _loop.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }
}
