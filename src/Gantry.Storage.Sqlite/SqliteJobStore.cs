using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, shared safely by any number of processes.
/// Within a process all writes go through one connection behind an async lock (SQLite has one
/// writer at a time anyway); every write transaction starts with <c>BEGIN IMMEDIATE</c> so that two
/// processes never deadlock upgrading a read lock, and waits out the other's lock up to the busy
/// timeout. Reads use pooled connections and never block writers. Safe to use from any number of threads.
/// </summary>
/// <remarks>Each member forwards (through <see cref="RelationalJobStore"/>) to the part of the store that owns it (<c>Sqlite*</c> types in this project); the
/// database they share (<c>SqliteDatabase</c>) holds every connection.</remarks>
public sealed class SqliteJobStore : RelationalJobStore
{
    private readonly SqliteDatabase _db;
    private readonly SqliteMigrations _migrations;

    /// <summary>The database the parts share (for the store's own tests).</summary>
    internal SqliteDatabase Database => _db;

    private SqliteJobStore(SqliteDatabase db, SqliteMigrations migrations, StoreSignals signals)
        : base(Parts(db, migrations, signals))
    {
        _db = db;
        _migrations = migrations;
        Signals = signals;
        FullPath = db.FullPath;
    }

    /// <summary>Makes the parts over the one database, each handed what it shares with another.</summary>
    private static StoreParts Parts(SqliteDatabase db, SqliteMigrations migrations, StoreSignals signals)
    {
        // State two parts share, each handed to both: the rows this instance claimed (the claim remembers them, a
        // report forgets them) and the claim's row reader (the plain and the limited claim read rows alike).
        var claimedRows = new ClaimedRows();
        var claimReader = new ClaimedJobReader();
        var counts = new SqliteCounts(db);
        var workflows = new SqliteWorkflows(db, signals);
        var flowLimits = new SqliteFlowLimits(db, signals, claimReader);
        var reports = new SqliteReports(db, signals, claimedRows, workflows, counts, flowLimits);
        return new StoreParts(
            Migrations: migrations,
            Enqueue: new SqliteEnqueue(db, signals),
            Claims: new SqliteClaims(db, flowLimits, claimReader, claimedRows, workflows),
            Reports: reports,
            JobQueries: new SqliteJobQueries(db),
            Counts: counts,
            Control: new SqliteControl(db, signals, workflows),
            FlowLimits: flowLimits,
            Workers: new SqliteWorkers(db, reports),
            Workflows: workflows,
            Schedules: new SqliteSchedules(db, signals),
            Maintenance: new SqliteMaintenance(db, signals, workflows, counts, reports),
            Leadership: new SqliteLeadership(db),
            AuditLog: new SqliteAuditLog(db));
    }

    /// <summary>Opens (and when allowed, creates and migrates) the store at <see cref="SqliteStoreOptions.Path"/>.</summary>
    public static async Task<SqliteJobStore> OpenAsync(SqliteStoreOptions options, CancellationToken ct)
    {
        options.Validate();
        var path = System.IO.Path.GetFullPath(options.Path);
        if (Directory.Exists(path))
            throw new StoreUnavailableException($"database file {path} is a directory");
        if (!File.Exists(path))
        {
            if (!options.CreateIfMissing)
                throw new StoreUnavailableException($"no Gantry store at {path} (start one with `gantry run --db {options.Path}` or submit a job to create it)");
            var dir = System.IO.Path.GetDirectoryName(path);
            if (dir is not null && !Directory.Exists(dir))
                throw new StoreUnavailableException($"cannot create database file {path}: directory {dir} does not exist");
        }
        var db = new SqliteDatabase(options);
        var store = new SqliteJobStore(db, new SqliteMigrations(db), new StoreSignals());
        try
        {
            if (options.Migrate) await store._migrations.MigrateAsync(ct).ConfigureAwait(false);
            else await store._migrations.CheckAsync(ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The database file's absolute path.</summary>
    public string FullPath { get; }

    /// <inheritdoc/>
    public override string Description => $"sqlite:{FullPath}";

    /// <inheritdoc/>
    public override bool SupportsCrossProcessNotifications => false;

    /// <inheritdoc/>
    public override StoreSignals Signals { get; }

    /// <summary>The newest schema version this code knows (what <see cref="RelationalJobStore.MigrateAsync"/> brings a store to).</summary>
    public static int LatestSchemaVersion => SqliteSchema.LatestVersion;

    /// <summary>Closes the file's write connection once the write in flight, if any, has ended; reads and writes
    /// after it throw <see cref="ObjectDisposedException"/>. Safe to call more than once.</summary>
    public override ValueTask DisposeAsync() => _db.DisposeAsync();
}
