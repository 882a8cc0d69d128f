using Gantry.Storage;
using Gantry.Storage.Postgres;
using Gantry.Storage.Sqlite;

namespace Gantry.Hosting;

/// <summary>Where a command's store is: an SQLite file or a PostgreSQL database (a schema in it).</summary>
internal abstract record StoreLocation
{
    /// <summary>The location without secrets, for messages.</summary>
    public abstract string Display { get; }

    /// <summary>The location as <see cref="Stores.Parse"/> reads it (secrets included).</summary>
    public abstract string Text { get; }
}

internal sealed record SqliteLocation(string Path) : StoreLocation
{
    public override string Display => $"sqlite:{Path}";

    public override string Text => $"sqlite:{Path}";
}

internal sealed record PostgresLocation(string ConnectionString, string Schema, string Url) : StoreLocation
{
    public override string Display => PostgresUrl.Redact(Url);

    public override string Text => Url;
}

/// <summary>
/// Parses and opens the store a command names. The one place that knows the backends: commands
/// take a <see cref="StoreLocation"/> from <c>--store</c>, <c>--db</c> or the environment and open it here.
/// </summary>
internal static class Stores
{
    public const string Forms = "postgres://user:password@host:5432/database or sqlite:path";

    /// <summary>Parses <c>postgres://…</c>, <c>postgresql://…</c> or <c>sqlite:path</c>; throws <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static StoreLocation Parse(string text, string where)
    {
        text = text.Trim();
        if (PostgresUrl.IsPostgresUrl(text))
        {
            var (cs, schema) = PostgresUrl.Parse(text, where);
            return new PostgresLocation(cs, schema, text);
        }
        if (text.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = text["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal)) path = path[2..]; // sqlite://./x.db and sqlite:///abs/x.db
            if (path.Length == 0) throw new InvalidInputException(where, "'sqlite:' names no file (e.g. sqlite:./gantry.db)");
            return new SqliteLocation(path);
        }
        throw new InvalidInputException(where, $"'{PostgresUrl.Redact(text)}' is not a store (expected {Forms})");
    }

    /// <summary>Opens (and when allowed, creates and migrates) the store.</summary>
    /// <param name="migrate">False: the schema is only checked, and a store at another version is refused.</param>
    /// <param name="shareFile">An SQLite file may already hold an application's own tables (see <see cref="SqliteStoreOptions.ShareFile"/>).</param>
    public static async Task<IJobStore> OpenAsync(StoreLocation location, bool createIfMissing, CancellationToken ct, bool migrate = true, bool shareFile = false) => location switch
    {
        SqliteLocation s => await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = s.Path, CreateIfMissing = createIfMissing, Migrate = migrate, ShareFile = shareFile }, ct).ConfigureAwait(false),
        // A PostgreSQL database is created by its administrator; the schema in it is created on first use unless told not to migrate.
        PostgresLocation p => await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = p.ConnectionString, Schema = p.Schema, Migrate = migrate }, ct).ConfigureAwait(false),
        _ => throw new ArgumentOutOfRangeException(nameof(location)),
    };

    /// <summary>Opens an SQLite store file (the benchmark's own).</summary>
    public static Task<IJobStore> OpenAsync(string db, bool createIfMissing, CancellationToken ct) =>
        OpenAsync(new SqliteLocation(db), createIfMissing, ct);
}
