using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// Turns <c>postgres://user:pass@host:port/db?option=value</c> (or <c>postgresql://…</c>) into an
/// Npgsql connection string. Query parameters are passed through as connection string keywords
/// (e.g. <c>?sslmode=require</c>, <c>?schema=jobs</c> is taken out and returned separately).
/// </summary>
public static class PostgresUrl
{
    /// <summary>True when <paramref name="text"/> starts with <c>postgres://</c> or <c>postgresql://</c> (any case); says nothing of the rest.</summary>
    public static bool IsPostgresUrl(string text) =>
        text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the URL; throws <see cref="InvalidInputException"/> naming what is wrong.</summary>
    public static (string ConnectionString, string Schema) Parse(string url, string where = "--store")
    {
        if (!IsPostgresUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new InvalidInputException(where, $"'{Redact(url)}' is not a PostgreSQL URL (expected postgres://user:password@host:5432/database)");
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/'))
            throw new InvalidInputException(where, $"'{Redact(url)}' names no database (expected postgres://user:password@host:5432/database)");
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']'), Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port, Database = database };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var schema = PostgresStoreOptions.SchemaDefault;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            if (key.Equals("schema", StringComparison.OrdinalIgnoreCase)) { schema = value; continue; }
            try { b[key] = value; }
            catch (ArgumentException) { throw new InvalidInputException(where, $"'{key}' is not a PostgreSQL connection option"); }
        }
        return (b.ConnectionString, schema);
    }

    /// <summary>The URL without its password, for messages and descriptions.</summary>
    public static string Redact(string url)
    {
        var at = url.IndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme) return url;
        var userInfo = url[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':');
        return colon < 0 ? url : url[..(scheme + 3)] + userInfo[..colon] + ":***" + url[at..];
    }
}
