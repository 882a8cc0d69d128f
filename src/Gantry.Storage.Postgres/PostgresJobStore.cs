using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// The distributed store: one PostgreSQL database (one schema in it) shared by any number of
/// processes on any hosts. Claims take rows with <c>FOR UPDATE SKIP LOCKED</c>, so claimers never
/// wait for each other; every state change is a conditional update built from
/// <see cref="Gantry.Jobs.JobStateMachine"/>; writes that make work available NOTIFY a channel that
/// every instance LISTENs on, so idle workers in other processes wake at once (polling stays the
/// fallback). Connections run with <c>plan_cache_mode = force_generic_plan</c>: a plan chosen on the
/// statistics of a queue full of queued rows must not turn batched updates into table scans.
/// </summary>
public sealed partial class PostgresJobStore : IJobStore
{
    private const int MaxTransientRetries = 3;

    private readonly NpgsqlDataSource _data;
    private readonly TimeProvider _time;
    private readonly string _schema;
    private readonly string? _database;
    private readonly string _channel;
    private readonly string _listenConnectionString;
    private readonly string _leaderConnectionString;
    private readonly CancellationTokenSource _stopping = new();
    private PostgresListener? _listener;
    private readonly PostgresEndedNotifier _ended;
    private int _disposed;

    private PostgresJobStore(PostgresStoreOptions options)
    {
        options.Validate();
        NpgsqlConnectionStringBuilder b;
        try { b = new NpgsqlConnectionStringBuilder(options.ConnectionString); }
        catch (ArgumentException ex) { throw new InvalidInputException("store", $"not a PostgreSQL connection string: {ex.Message}"); }
        _time = options.Time;
        _schema = options.Schema;
        _database = b.Database;
        _channel = $"gantry_{options.Schema}";
        Server = $"{b.Host ?? "localhost"}:{b.Port}";
        Description = $"postgres://{(string.IsNullOrEmpty(b.Username) ? "" : b.Username + "@")}{Server}/{b.Database}"
            + (_schema == PostgresStoreOptions.SchemaDefault ? "" : $"?schema={_schema}");
        b.SearchPath = _schema;
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
        _ended = new PostgresEndedNotifier(_data, _channel, _stopping.Token);
        // The listening connection lives as long as the store; it is not a pooled one.
        _listenConnectionString = new NpgsqlConnectionStringBuilder(b.ConnectionString) { Pooling = false, KeepAlive = 30 }.ConnectionString;
        // A leader's session must not be pooled (closing it must end the session and free the lock), and
        // TCP keepalives let the server notice a leader host that vanished without closing its socket.
        _leaderConnectionString = new NpgsqlConnectionStringBuilder(b.ConnectionString)
        { Pooling = false, KeepAlive = 5, TcpKeepAlive = true, TcpKeepAliveTime = 5, TcpKeepAliveInterval = 2, ApplicationName = b.ApplicationName + " leader" }.ConnectionString;
    }

    /// <summary>Connects, creates or upgrades the schema and starts listening for other processes' wake-ups.</summary>
    public static async Task<PostgresJobStore> OpenAsync(PostgresStoreOptions options, CancellationToken ct)
    {
        var store = new PostgresJobStore(options);
        try
        {
            if (options.Migrate) await store.MigrateAsync(ct).ConfigureAwait(false);
            else await store.CheckSchemaAsync(ct).ConfigureAwait(false);
            if (options.Listen) store._listener = PostgresListener.Start(store._listenConnectionString, store._channel, store.Signals, store._stopping.Token);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>host:port, for messages.</summary>
    public string Server { get; }

    public string Description { get; }

    public bool SupportsCrossProcessNotifications => true;

    public StoreSignals Signals { get; } = new();

    /// <summary>The newest schema version this code knows (what <see cref="MigrateAsync"/> brings a store to).</summary>
    public static int LatestSchemaVersion => PostgresSchema.LatestVersion;

    /// <summary>Completes once the listening connection is LISTENing (tests wait for it before relying on a wake-up).</summary>
    internal Task ListeningAsync => _listener?.Listening ?? Task.CompletedTask;

    private DateTime Now() => _time.GetUtcNow().UtcDateTime;

    /// <summary>Runs <paramref name="work"/> on a pooled connection, statements auto-committed.</summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
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
    private Task<T> TransactAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct) => AtomicAsync(work, explicitTransaction: true, ct);

    /// <summary>
    /// Runs <paramref name="work"/>, which sends exactly one <see cref="NpgsqlBatch"/>: the server runs a batch
    /// (one Sync) as one implicit transaction, all or nothing, in a single round trip instead of the
    /// three of BEGIN, the statements and COMMIT. Retried as <see cref="TransactAsync{T}"/> is.
    /// </summary>
    private Task<T> OneBatchAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct) => AtomicAsync(work, explicitTransaction: false, ct);

    private async Task<T> AtomicAsync<T>(Func<NpgsqlConnection, Task<T>> work, bool explicitTransaction, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
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

    private static NpgsqlCommand Command(NpgsqlConnection c, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }

    /// <summary>Jobs ended (their transaction has committed): waiters here at once, in other processes by a notification.</summary>
    private void JobsEnded()
    {
        Signals.JobsEnded.Set();
        _ended.Raise();
    }

    /// <summary>Wakes every listening instance once this transaction commits (NOTIFY is transactional and de-duplicated).</summary>
    private Task NotifyAsync(NpgsqlConnection c, string kind, CancellationToken ct) => ExecuteAndDisposeAsync(Command(c, NotifySql).Bind("@channel", _channel).Bind("@kind", kind), ct);

    /// <summary>The notification as a statement of a batch.</summary>
    private NpgsqlBatchCommand Notify(string kind) => new NpgsqlBatchCommand(NotifySql).Bind("@channel", _channel).Bind("@kind", kind);

    /// <summary>The notifications an insert of jobs in <paramref name="states"/> sends: claimers for queued ones, the scheduler for scheduled ones.</summary>
    private NpgsqlBatchCommand[] WakeUps(IReadOnlyCollection<Gantry.Jobs.JobState> states) =>
        [.. states.Contains(Gantry.Jobs.JobState.Queued) ? [Notify(PostgresNotifications.Jobs)] : Array.Empty<NpgsqlBatchCommand>(),
         .. states.Contains(Gantry.Jobs.JobState.Scheduled) ? [Notify(PostgresNotifications.Schedule)] : Array.Empty<NpgsqlBatchCommand>()];

    private const string NotifySql = "SELECT pg_notify(@channel, @kind)";

    private static async Task ExecuteAndDisposeAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using (cmd) await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping.Cancel();
        if (_listener is not null) await _listener.DisposeAsync().ConfigureAwait(false);
        await CloseLeaderSessionsAsync().ConfigureAwait(false);
        await _data.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
