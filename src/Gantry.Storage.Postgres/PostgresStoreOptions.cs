namespace Gantry.Storage.Postgres;

/// <summary>How to open a PostgreSQL store.</summary>
public sealed record PostgresStoreOptions
{
    public const string SchemaDefault = "gantry";

    /// <summary>An Npgsql connection string (<see cref="PostgresUrl.Parse"/> turns a postgres:// URL into one).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The schema that holds Gantry's tables; created on first start. Defaults to <c>gantry</c>.
    /// One database can hold several independent stores in different schemas (the tests use one per test).</summary>
    public string Schema { get; init; } = SchemaDefault;

    /// <summary>Keep a LISTEN connection so that work enqueued by other processes wakes this one at once. Defaults to true.</summary>
    public bool Listen { get; init; } = true;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
