using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.Postgres;

/// <summary>
/// The distributed store: one PostgreSQL database (one schema in it) shared by any number of
/// processes on any hosts. Claims take rows with <c>FOR UPDATE SKIP LOCKED</c>, so claimers never
/// wait for each other; every state change is a conditional update built from
/// <see cref="Gantry.Jobs.JobStateMachine"/>; writes that make work available NOTIFY a channel that
/// every instance LISTENs on, so idle workers in other processes wake at once (polling stays the
/// fallback). Connections run with <c>plan_cache_mode = force_generic_plan</c>: a plan chosen on the
/// statistics of a queue full of queued rows must not turn batched updates into table scans.
/// Thread-safe; open it with <see cref="OpenAsync"/> and dispose it once.
/// </summary>
/// <remarks>
/// Each responsibility is a part of its own (<see cref="PostgresClaims"/>, <see cref="PostgresReports"/>, …) over the
/// shared <see cref="PostgresDatabase"/>; this type makes them and closes them; its base forwards each member to its part.
/// </remarks>
public sealed class PostgresJobStore : RelationalJobStore
{
    private readonly PostgresDatabase _db;
    private readonly PostgresMigrations _migrations;
    private readonly PostgresLeadership _leadership;
    private PostgresListener? _listener;

    private PostgresJobStore(PostgresDatabase db, PostgresMigrations migrations, PostgresLeadership leadership)
        : base(Parts(db, migrations, leadership))
    {
        _db = db;
        _migrations = migrations;
        _leadership = leadership;
    }

    /// <summary>Makes the parts over the one database, each handed what it shares with another.</summary>
    private static StoreParts Parts(PostgresDatabase db, PostgresMigrations migrations, PostgresLeadership leadership)
    {
        // The queues with limits: the flow limits' settings invalidate it, every claim reads it.
        var limited = new PostgresLimitedQueues();
        var workflows = new PostgresWorkflows(db);
        var counts = new PostgresCounts(db);
        return new StoreParts(
            Migrations: migrations,
            Enqueue: new PostgresEnqueue(db),
            Claims: new PostgresClaims(db, limited),
            Reports: new PostgresReports(db, workflows),
            JobQueries: new PostgresJobQueries(db),
            Counts: counts,
            Control: new PostgresControl(db, workflows),
            FlowLimits: new PostgresFlowLimits(db, limited),
            Workers: new PostgresWorkers(db),
            Workflows: workflows,
            Schedules: new PostgresSchedules(db),
            Maintenance: new PostgresMaintenance(db, counts, workflows),
            Leadership: leadership,
            AuditLog: new PostgresAuditLog(db));
    }

    /// <summary>Connects, creates or upgrades the schema (or, with <see cref="PostgresStoreOptions.Migrate"/> off, checks that
    /// it is at <see cref="LatestSchemaVersion"/>) and starts listening for other processes' wake-ups.</summary>
    /// <exception cref="InvalidInputException">The options are not valid.</exception>
    /// <exception cref="StoreUnavailableException">The server cannot be reached, or the schema is not one this code can use.</exception>
    public static async Task<PostgresJobStore> OpenAsync(PostgresStoreOptions options, CancellationToken ct)
    {
        var db = new PostgresDatabase(options);
        var store = new PostgresJobStore(db, new PostgresMigrations(db), new PostgresLeadership(db));
        try
        {
            if (options.Migrate) await store._migrations.MigrateAsync(ct).ConfigureAwait(false);
            else await store._migrations.CheckSchemaAsync(ct).ConfigureAwait(false);
            if (options.Listen) store._listener = PostgresListener.Start(store._db.ListenConnectionString, store._db.Channel, store.Signals, store._db.Stopping);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>host:port of the server, for messages.</summary>
    public string Server => _db.Server;

    /// <inheritdoc/>
    public override string Description => _db.Description;

    /// <inheritdoc/>
    public override bool SupportsCrossProcessNotifications => true;

    /// <inheritdoc/>
    public override StoreSignals Signals => _db.Signals;

    /// <summary>The newest schema version this code knows (what <see cref="RelationalJobStore.MigrateAsync"/> brings a store to).</summary>
    public static int LatestSchemaVersion => PostgresSchema.LatestVersion;

    /// <summary>Completes once the listening connection is LISTENing (tests wait for it before relying on a wake-up).</summary>
    internal Task ListeningAsync => _listener?.Listening ?? Task.CompletedTask;

    /// <summary>Stops listening, ends the leader sessions (freeing their locks) and closes the pool; a second call does nothing.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (!_db.Stop()) return;
        if (_listener is not null) await _listener.DisposeAsync().ConfigureAwait(false);
        await _leadership.DisposeAsync().ConfigureAwait(false);
        await _db.DisposeAsync().ConfigureAwait(false);
    }
}
