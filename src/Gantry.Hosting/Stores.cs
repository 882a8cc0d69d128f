using Gantry.Storage.Postgres;
using Gantry.Storage.Sqlite;

namespace Gantry.Hosting;

/// <summary>
/// Where a store is: an SQLite file (<see cref="SqliteLocation"/>) or a schema of a PostgreSQL database
/// (<see cref="PostgresLocation"/>), as <see cref="Stores.Parse"/> reads it from <c>sqlite:path</c> or <c>postgres://…</c>
/// (the <c>Gantry:Store</c> setting, the <c>gantry</c> command's <c>--store</c>).
/// </summary>
public abstract record StoreLocation
{
    /// <summary>The location without secrets, for messages.</summary>
    public abstract string Display { get; }

    /// <summary>The location as <see cref="Stores.Parse"/> reads it (secrets included).</summary>
    public abstract string Text { get; }
}

/// <summary>An SQLite store file.</summary>
/// <param name="Path">The file, as given (relative paths are the process's working directory's).</param>
public sealed record SqliteLocation(string Path) : StoreLocation
{
    /// <inheritdoc />
    public override string Display => $"sqlite:{Path}";

    /// <inheritdoc />
    public override string Text => $"sqlite:{Path}";
}

/// <summary>A schema of a PostgreSQL database.</summary>
/// <param name="ConnectionString">The Npgsql connection string the URL gives (secrets included).</param>
/// <param name="Schema">The schema Gantry's tables are in (<c>?schema=</c>; <c>gantry</c> by default).</param>
/// <param name="Url">The <c>postgres://…</c> URL as given (secrets included).</param>
public sealed record PostgresLocation(string ConnectionString, string Schema, string Url) : StoreLocation
{
    /// <inheritdoc />
    public override string Display => PostgresUrl.Redact(Url);

    /// <inheritdoc />
    public override string Text => Url;
}

/// <summary>
/// Parses and opens the store a setting or a command names. The one place that knows the backends: the <c>Gantry:Store</c>
/// setting and the <c>gantry</c> command's <c>--store</c>, <c>--db</c> and <c>GANTRY_STORE</c> become a
/// <see cref="StoreLocation"/> here, and are opened here.
/// </summary>
public static class Stores
{
    /// <summary>The forms <see cref="Parse"/> reads, for messages and help.</summary>
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
}
