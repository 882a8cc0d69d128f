using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// What every part of the PostgreSQL store shares: the pooled data source (the only source of the store's connections;
/// the listener's and the leader's sessions are made from its connection strings), the clock, the ways a part runs its
/// statements (auto-committed, in one transaction, as one batch, or in an application's transaction), the store's
/// notifications and signals, and the translation of driver errors.
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    private const int MaxTransientRetries = 3;
    private const string NotifySql = "SELECT pg_notify(@channel, @kind)";

    private readonly NpgsqlDataSource _data;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly PostgresEndedNotifier _ended;
    private int _stopped;

    /// <summary>Validates <paramref name="options"/> and makes the data source; opens no connection.</summary>
    /// <exception cref="InvalidInputException">The connection string cannot be parsed.</exception>
    public PostgresDatabase(PostgresStoreOptions options)
    {
        options.Validate();
        NpgsqlConnectionStringBuilder b;
        try { b = new NpgsqlConnectionStringBuilder(options.ConnectionString); }
        catch (ArgumentException ex) { throw new InvalidInputException("store", $"not a PostgreSQL connection string: {ex.Message}"); }
        _time = options.Time;
        Schema = options.Schema;
        Database = b.Database;
        Channel = $"gantry_{options.Schema}";
        Server = $"{b.Host ?? "localhost"}:{b.Port}";
        Description = $"postgres://{(string.IsNullOrEmpty(b.Username) ? "" : b.Username + "@")}{Server}/{b.Database}"
            + (Schema == PostgresStoreOptions.SchemaDefault ? "" : $"?schema={Schema}");
        b.SearchPath = Schema;
        // JIT off: a queue's statements touch hundreds of rows, never enough to repay compiling, and an estimate
        // inflated by disabled scan types (see PostgresArrayUpdate) would otherwise cost a few hundred ms of JIT per call.
        b.Options = $"{b.Options} -c plan_cache_mode=force_generic_plan -c jit=off".Trim();
        // Hot statements are prepared server-side after a couple of uses: less parsing and planning per claim.
        if (b.MaxAutoPrepare == 0) b.MaxAutoPrepare = 64;
        b.AutoPrepareMinUsages = 2;
        // No session state outlives a use of a pooled connection (settings are SET LOCAL, the migration's lock is
        // transaction-scoped, LISTEN and the leader's lock have connections of their own), so the reset Npgsql
        // would send with the next statement (three statements, every time a connection is taken) is skipped.
        b.NoResetOnClose = true;
        if (string.IsNullOrEmpty(b.ApplicationName)) b.ApplicationName = "gantry";
        _data = NpgsqlDataSource.Create(b.ConnectionString);
        _ended = new PostgresEndedNotifier(_data, Channel, _stopping.Token);
        // The listening connection lives as long as the store; it is not a pooled one.
        ListenConnectionString = new NpgsqlConnectionStringBuilder(b.ConnectionString) { Pooling = false, KeepAlive = 30 }.ConnectionString;
        // A leader's session must not be pooled (closing it must end the session and free the lock), and
        // TCP keepalives let the server notice a leader host that vanished without closing its socket.
        LeaderConnectionString = new NpgsqlConnectionStringBuilder(b.ConnectionString)
        { Pooling = false, KeepAlive = 5, TcpKeepAlive = true, TcpKeepAliveTime = 5, TcpKeepAliveInterval = 2, ApplicationName = b.ApplicationName + " leader" }.ConnectionString;
    }

    /// <summary>The store's schema (first on every connection's search path).</summary>
    public string Schema { get; }

    /// <summary>The database the connection string names; null when it names none (the server's default).</summary>
    public string? Database { get; }

    /// <summary>The channel the store's instances NOTIFY and LISTEN on (one per schema).</summary>
    public string Channel { get; }

    /// <summary>host:port, for messages.</summary>
    public string Server { get; }

    /// <summary>The store as a URL without credentials, for messages.</summary>
    public string Description { get; }

    /// <summary>For the listening connection: not pooled, with keepalives.</summary>
    public string ListenConnectionString { get; }

    /// <summary>For a leader's session: not pooled, with TCP keepalives.</summary>
    public string LeaderConnectionString { get; }

    /// <summary>The store's clock.</summary>
    public TimeProvider Time => _time;

    /// <summary>The in-process wake-ups of the store's waiters.</summary>
    public StoreSignals Signals { get; } = new();

    /// <summary>Cancelled once the store begins to close.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Now by the store's clock, in UTC.</summary>
    public DateTime Now() => _time.GetUtcNow().UtcDateTime;

    /// <summary>Throws <see cref="ObjectDisposedException"/> (naming the store) once the store began to close.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _stopped) != 0, typeof(PostgresJobStore));

    /// <summary>Runs <paramref name="work"/> on a pooled connection, statements auto-committed.</summary>
    public async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        ThrowIfDisposed();
        try
        {
            await using var c = await _data.OpenConnectionAsync(ct).ConfigureAwait(false);
            return await work(c).ConfigureAwait(false);
        }
        catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
        {
            throw PostgresErrors.Translate(ex, Server);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one READ COMMITTED transaction. A deadlock or serialization
    /// failure (two batches taking the same idempotency keys in different orders) is retried: the
    /// whole transaction was rolled back, so running it again is safe.
    /// </summary>
    public Task<T> TransactAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct) => AtomicAsync(work, explicitTransaction: true, ct);

    /// <summary>
    /// Runs <paramref name="work"/>, which sends exactly one <see cref="NpgsqlBatch"/>: the server runs a batch
    /// (one Sync) as one implicit transaction, all or nothing, in a single round trip instead of the
    /// three of BEGIN, the statements and COMMIT. Retried as <see cref="TransactAsync{T}"/> is.
    /// </summary>
    public Task<T> OneBatchAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct) => AtomicAsync(work, explicitTransaction: false, ct);

    private async Task<T> AtomicAsync<T>(Func<NpgsqlConnection, Task<T>> work, bool explicitTransaction, CancellationToken ct)
    {
        ThrowIfDisposed();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var c = await _data.OpenConnectionAsync(ct).ConfigureAwait(false);
                if (!explicitTransaction) return await work(c).ConfigureAwait(false);
                await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
                var result = await work(c).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException ex) when (ex.IsTransient || ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                if (attempt >= MaxTransientRetries) throw PostgresErrors.Translate(ex, Server);
            }
            catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
            {
                throw PostgresErrors.Translate(ex, Server);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the connection of an application's open transaction on this store's database,
    /// with the store's schema first on the search path meanwhile (the path is put back after, for the rest of the
    /// application's transaction). An error leaves the application's transaction failed, as any failed statement does.
    /// </summary>
    public async Task<T> InAppTransactionAsync<T>(System.Data.Common.DbTransaction transaction, Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        ThrowIfDisposed();
        if (transaction is not NpgsqlTransaction tx)
            throw new InvalidInputException("transaction", $"is a {transaction.GetType().Name}; the PostgreSQL store {Description} takes an NpgsqlTransaction on its database");
        if (tx.Connection is not { State: System.Data.ConnectionState.Open } c)
            throw new InvalidInputException("transaction", "has ended (committed or rolled back) or its connection is closed");
        if (Database is not null && !string.Equals(c.Database, Database, StringComparison.Ordinal))
            throw new InvalidInputException("transaction", $"is on database {c.Database}, not on the store's database {Database} ({Description})");
        try
        {
            string path;
            await using (var set = Command(c, "SELECT current_setting('search_path'), set_config('search_path', @schema, true)").Bind("@schema", Schema))
                path = (string)(await set.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            // A local setting outlives its statement only inside a transaction block: a transaction that has ended (Npgsql
            // keeps its connection) would otherwise run the insert on its own and commit it at once.
            await using (var check = Command(c, "SELECT current_setting('search_path') = @schema").Bind("@schema", Schema))
                if (!(bool)(await check.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
                    throw new InvalidInputException("transaction", "has ended (committed or rolled back): its connection is in no transaction");
            var result = await work(c).ConfigureAwait(false);
            await using (var reset = Command(c, "SELECT set_config('search_path', @path, true)").Bind("@path", path))
                await reset.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return result;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new InvalidInputException("transaction", $"is on a database without a Gantry store in schema {Schema} ({Description}): {ex.MessageText}");
        }
        catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
        {
            throw PostgresErrors.Translate(ex, Server);
        }
    }

    /// <summary>A command of <paramref name="sql"/> on <paramref name="c"/>; the caller disposes it.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection c, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }

    /// <summary>Jobs ended (their transaction has committed): waiters here at once, in other processes by a notification.</summary>
    public void JobsEnded()
    {
        Signals.JobsEnded.Set();
        _ended.Raise();
    }

    /// <summary>Wakes every listening instance once this transaction commits (NOTIFY is transactional and de-duplicated).</summary>
    public async Task NotifyAsync(NpgsqlConnection c, string kind, CancellationToken ct)
    {
        await using var cmd = Command(c, NotifySql).Bind("@channel", Channel).Bind("@kind", kind);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The notification as a statement of a batch.</summary>
    public NpgsqlBatchCommand Notify(string kind) => new NpgsqlBatchCommand(NotifySql).Bind("@channel", Channel).Bind("@kind", kind);

    /// <summary>The notifications an insert of jobs in <paramref name="states"/> sends: claimers for queued ones, the scheduler for scheduled ones.</summary>
    public NpgsqlBatchCommand[] WakeUps(IReadOnlyCollection<Gantry.Jobs.JobState> states) =>
        [.. states.Contains(Gantry.Jobs.JobState.Queued) ? [Notify(PostgresNotifications.Jobs)] : Array.Empty<NpgsqlBatchCommand>(),
         .. states.Contains(Gantry.Jobs.JobState.Scheduled) ? [Notify(PostgresNotifications.Schedule)] : Array.Empty<NpgsqlBatchCommand>()];

    /// <summary>Refuses new work and cancels <see cref="Stopping"/>; false when the store was already closing. The store
    /// then closes its own sessions (listener, leaders) before <see cref="DisposeAsync"/>.</summary>
    public bool Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return false;
        _stopping.Cancel();
        return true;
    }

    /// <summary>Closes the pool; call after <see cref="Stop"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await _data.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
