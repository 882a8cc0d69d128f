using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// Tells the store's other processes that jobs ended (<c>NOTIFY … 'ended'</c>), so that their waiters for a job's end
/// (<see cref="JobWaits"/>) wake. Sent outside the writes' transactions, at most once per <see cref="Interval"/>: a
/// NOTIFY in a transaction makes its commit wait for every other notifying commit of the cluster, which the report path
/// (hundreds of batches a second) must not pay. One notification covers every end written before it was sent.
/// </summary>
internal sealed class PostgresEndedNotifier(NpgsqlDataSource data, string channel, CancellationToken stopping)
{
    /// <summary>The most a waiter in another process waits for the notification, beyond its delivery.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private int _scheduled;

    /// <summary>Jobs ended (their transaction has committed): a notification goes out within <see cref="Interval"/>.</summary>
    public void Raise()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 1) return; // the one scheduled is sent after this end: it covers it
        _ = Task.Run(SendAsync, CancellationToken.None);
    }

    private async Task SendAsync()
    {
        try
        {
            await Task.Delay(Interval, stopping).ConfigureAwait(false);
            // Reset before sending: an end after this point schedules the next notification.
            Volatile.Write(ref _scheduled, 0);
            await using var cmd = data.CreateCommand("SELECT pg_notify($1, $2)");
            cmd.Parameters.Add(new NpgsqlParameter { Value = channel });
            cmd.Parameters.Add(new NpgsqlParameter { Value = PostgresNotifications.Ended });
            await cmd.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The store is closing, or the database is away: waiters elsewhere fall back on their safety poll.
            Volatile.Write(ref _scheduled, 0);
        }
    }
}
