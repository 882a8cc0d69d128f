namespace Gantry.Storage.Postgres;

/// <summary>How to open a PostgreSQL store.</summary>
public sealed partial record PostgresStoreOptions
{
    /// <summary>The schema a store uses when none is named: <c>gantry</c>.</summary>
    public const string SchemaDefault = "gantry";

    /// <summary>An Npgsql connection string (<see cref="PostgresUrl.Parse"/> turns a postgres:// URL into one).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The schema that holds Gantry's tables; created on first start. Defaults to <c>gantry</c>.
    /// One database can hold several independent stores in different schemas (the tests use one per test).</summary>
    public string Schema { get; init; } = SchemaDefault;

    /// <summary>Keep a LISTEN connection so that work enqueued by other processes wakes this one at once. Defaults to true.</summary>
    public bool Listen { get; init; } = true;

    /// <summary>Create or upgrade the schema on open. When false, the schema is only checked: a store that is missing
    /// or at another version than this code's is refused (an application that leaves migrations to <c>gantry migrate</c>).
    /// Defaults to true.</summary>
    public bool Migrate { get; init; } = true;

    /// <summary>The store's clock for the times it writes (created, started, finished, due); tests pass a fake one.
    /// Defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    // Generated at build time: a program that constructs no regex at run time leaves the regex parser and interpreter out
    // of its Native AOT image.
    [System.Text.RegularExpressions.GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex SchemaName();

    /// <summary>Refuses an empty connection string and a schema that is not a plain lower-case name; runs when the store opens.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString)) throw new InvalidInputException("store", "the PostgreSQL connection string must not be empty");
        if (Schema is null || !SchemaName().IsMatch(Schema))
            throw new InvalidInputException("schema", $"'{Schema}' is not a schema name (lower-case letters, digits and _)");
    }
}
