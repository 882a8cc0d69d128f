using Npgsql;
using System.Collections.Concurrent;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Leader election: one session of its own per (name, holder), holding an advisory lock while it leads.</summary>
internal sealed class PostgresLeadership(PostgresDatabase db) : IAsyncDisposable, IStoreLeadership
{
    // Leadership is a session advisory lock held on a connection of its own (not pooled): PostgreSQL
    // frees it the moment that session ends, so a leader that is killed, loses its network or sees the
    // server restart stops being leader without waiting for any ttl, and a standby's next try wins.
    // The lock key is two int4s (schema, name), a key space apart from the migrations' one-bigint lock.
    private readonly ConcurrentDictionary<(string Name, string Holder), LeaderSession> _leaderSessions = new();

    private string LeaderLockNamespace => "gantry.leader." + db.Schema;

    /// <summary>
    /// How often a leader's session is checked. The lock cannot be lost while the session lives, so a check only
    /// notices a dead connection; a leader whose session ended runs on for at most this long beside the next one,
    /// which is harmless (every maintenance change is a conditional update) and saves an idle store a statement
    /// every election round.
    /// </summary>
    private static readonly TimeSpan LeaderSessionCheck = TimeSpan.FromSeconds(5);

    public async Task<bool> LeaderTryElectAsync(LeaderElectParams p, CancellationToken ct)
    {
        db.ThrowIfDisposed();
        var session = _leaderSessions.GetOrAdd((p.Name, p.HolderId), _ => new LeaderSession());
        await session.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (session.Connection is { } held && session.Leads)
            {
                // The lock lives as long as the session: a live session still holds it.
                if (db.Time.GetElapsedTime(session.CheckedAt) < LeaderSessionCheck) return true;
                try
                {
                    await Command(held, "SELECT 1").RunAsync(ct).ConfigureAwait(false);
                    session.CheckedAt = db.Time.GetTimestamp();
                    return true;
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
                {
                    await session.CloseAsync().ConfigureAwait(false);
                }
            }
            try
            {
                session.Connection ??= await OpenLeaderConnectionAsync(ct).ConfigureAwait(false);
                session.Leads = await Command(session.Connection, "SELECT pg_try_advisory_lock(hashtext(@schema), hashtext(@name))")
                    .Bind("@schema", LeaderLockNamespace).Bind("@name", p.Name).ScalarAsync(ct).ConfigureAwait(false) is true;
                session.CheckedAt = db.Time.GetTimestamp();
                return session.Leads;
            }
            catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
            {
                await session.CloseAsync().ConfigureAwait(false);
                throw PostgresErrors.Translate(ex, db.Server);
            }
        }
        finally
        {
            session.Gate.Release();
        }
    }

    public async Task LeaderResignAsync(LeaderResignParams p, CancellationToken ct)
    {
        if (!_leaderSessions.TryRemove((p.Name, p.HolderId), out var session)) return;
        await session.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Unlock first: the server frees a closed session's locks only a moment after the socket closes,
            // and a standby trying right after the resignation must find the lock free.
            // A session broken by a database restart has lost its lock with it: nothing to unlock.
            if (session is { Leads: true, Connection: { State: System.Data.ConnectionState.Open } c })
            {
                try
                {
                    await Command(c, "SELECT pg_advisory_unlock(hashtext(@schema), hashtext(@name))")
                        .Bind("@schema", LeaderLockNamespace).Bind("@name", p.Name).ScalarAsync(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException) { /* the session is gone, and its lock with it */ }
            }
            await session.CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            session.Gate.Release();
        }
    }

    private async Task<NpgsqlConnection> OpenLeaderConnectionAsync(CancellationToken ct)
    {
        var c = new NpgsqlConnection(db.LeaderConnectionString);
        try
        {
            await c.OpenAsync(ct).ConfigureAwait(false);
            return c;
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends every leader session (and so frees its locks); the store calls it as it closes.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var key in _leaderSessions.Keys)
            if (_leaderSessions.TryRemove(key, out var session)) await session.CloseAsync().ConfigureAwait(false);
    }

    private sealed class LeaderSession
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public NpgsqlConnection? Connection { get; set; }
        public bool Leads { get; set; }
        /// <summary>When the session last answered (a timestamp of the store's time provider).</summary>
        public long CheckedAt { get; set; }

        public async Task CloseAsync()
        {
            Leads = false;
            if (Connection is { } c)
            {
                Connection = null;
                try { await c.DisposeAsync().ConfigureAwait(false); } catch (NpgsqlException) { /* the session is gone either way */ }
            }
        }
    }
}
