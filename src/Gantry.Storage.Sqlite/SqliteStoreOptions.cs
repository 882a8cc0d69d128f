namespace Gantry.Storage.Sqlite;

/// <summary>How to open an SQLite store.</summary>
public sealed record SqliteStoreOptions
{
    public static readonly TimeSpan BusyTimeoutDefault = TimeSpan.FromSeconds(10);

    /// <summary>Path of the database file.</summary>
    public required string Path { get; init; }

    /// <summary>Create the file and schema when missing. When false, a missing file is an error.</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>How long a statement waits for another process's write lock. Defaults to 10 seconds.</summary>
    public TimeSpan BusyTimeout { get; init; } = BusyTimeoutDefault;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Refuses a missing path and a negative busy timeout; runs when the store opens.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new InvalidInputException("database path", "must not be empty");
        if (BusyTimeout < TimeSpan.Zero) throw new InvalidInputException("busy timeout", $"must not be negative, got {BusyTimeout.TotalSeconds}s");
    }
}
