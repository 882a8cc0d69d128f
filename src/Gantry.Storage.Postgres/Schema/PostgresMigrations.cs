using Npgsql;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Brings the schema to <see cref="PostgresSchema.LatestVersion"/>, or checks that it is there.</summary>
internal sealed class PostgresMigrations(PostgresDatabase db) : IStoreMigrations
{
    /// <summary>
    /// Creates the schema and applies the migrations it lacks, all in one transaction holding an
    /// advisory lock on the schema's name: processes starting together queue up here, and the
    /// second finds the work done.
    /// </summary>
    public Task MigrateAsync(CancellationToken ct) => db.TransactAsync(async c =>
    {
        await Exec(c, "SELECT pg_advisory_xact_lock(@key)", ct, ("@key", LockKey("gantry.migrate." + db.Schema))).ConfigureAwait(false);
        var existed = await Scalar<bool>(c, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @s)", ct, ("@s", db.Schema)).ConfigureAwait(false);
        var ledger = existed && await Scalar<bool>(c,
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = @s AND tablename = 'gantry_migrations')", ct, ("@s", db.Schema)).ConfigureAwait(false);
        if (existed && !ledger && await Scalar<bool>(c, "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = @s)", ct, ("@s", db.Schema)).ConfigureAwait(false))
            throw new StoreUnavailableException($"PostgreSQL at {db.Server}: schema {db.Schema} holds tables but is not a Gantry store; refusing to change it");
        await Exec(c, $"""
            CREATE SCHEMA IF NOT EXISTS "{db.Schema}";
            SET LOCAL search_path TO "{db.Schema}";
            CREATE TABLE IF NOT EXISTS gantry_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL);
            """, ct).ConfigureAwait(false);
        var current = await Scalar<int>(c, MigrationSql.Version, ct).ConfigureAwait(false);
        if (current > PostgresSchema.LatestVersion)
            throw new StoreUnavailableException($"PostgreSQL at {db.Server}: schema {db.Schema} has version {current}, newer than this Gantry knows ({PostgresSchema.LatestVersion}); upgrade Gantry");
        foreach (var (version, sql) in PostgresSchema.Migrations)
        {
            if (version <= current) continue;
            await Exec(c, sql, ct).ConfigureAwait(false);
            await Exec(c, "INSERT INTO gantry_migrations (version, applied_at) VALUES (@v, @at)", ct, ("@v", version), ("@at", db.Now())).ConfigureAwait(false);
        }
        return true;
    }, ct);

    /// <summary>Refuses a schema that is missing or at another version than this code's, changing nothing.</summary>
    public async Task CheckSchemaAsync(CancellationToken ct)
    {
        var version = await db.RunAsync(async c =>
            await Scalar<bool>(c, "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = @s AND tablename = 'gantry_migrations')", ct, ("@s", db.Schema)).ConfigureAwait(false)
                ? await Scalar<int>(c, MigrationSql.Version, ct).ConfigureAwait(false)
                : 0, ct).ConfigureAwait(false);
        if (version != PostgresSchema.LatestVersion)
            throw new StoreUnavailableException($"PostgreSQL at {db.Server}: schema {db.Schema} is at version {version}, this Gantry needs {PostgresSchema.LatestVersion} and was asked not to migrate (run `gantry migrate --store …` or allow migrations)");
    }

    public Task<int> SchemaVersionAsync(CancellationToken ct) => db.RunAsync(c =>
        Scalar<int>(c, MigrationSql.Version, ct), ct);

    /// <summary>A stable 64-bit advisory lock key for a name (FNV-1a), the same in every process.</summary>
    private static long LockKey(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var ch in name) { hash ^= ch; hash *= 1099511628211UL; }
        return unchecked((long)hash);
    }

    private static async Task Exec(NpgsqlConnection c, string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(c, sql);
        foreach (var (name, value) in args) cmd.Bind(name, value);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection c, string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(c, sql);
        foreach (var (name, value) in args) cmd.Bind(name, value);
        return (T)Convert.ChangeType((await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}
