namespace Gantry.Storage.Sqlite;

/// <summary>How to open an SQLite store.</summary>
public sealed record SqliteStoreOptions
{
    /// <summary>The busy timeout when none is given: 10 seconds.</summary>
    public static readonly TimeSpan BusyTimeoutDefault = TimeSpan.FromSeconds(10);

    /// <summary>Path of the database file.</summary>
    public required string Path { get; init; }

    /// <summary>Create the file and schema when missing. When false, a missing file is an error.</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>How long a statement waits for another process's write lock. Defaults to 10 seconds.</summary>
    public TimeSpan BusyTimeout { get; init; } = BusyTimeoutDefault;

    /// <summary>
    /// The file is shared with an application's own tables (Gantry inside an application, enqueueing in its
    /// transactions): a file that holds other tables but no Gantry store yet gets Gantry's tables beside them. When
    /// false (the <c>gantry</c> command), such a file is refused unchanged, so that a wrong path never alters another
    /// program's database. Defaults to false.
    /// </summary>
    public bool ShareFile { get; init; }

    /// <summary>Create or upgrade the schema on open. When false, the schema is only checked: a store that is missing
    /// or at another version than this code's is refused (an application that leaves migrations to <c>gantry migrate</c>).
    /// Defaults to true.</summary>
    public bool Migrate { get; init; } = true;

    /// <summary>The clock the store reads for every time it records (enqueue, leases, finishes, schedules); a test
    /// passes a fake one. Defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Refuses a missing path and a negative busy timeout; runs when the store opens.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new InvalidInputException("database path", "must not be empty");
        if (BusyTimeout < TimeSpan.Zero) throw new InvalidInputException("busy timeout", $"must not be negative, got {BusyTimeout.TotalSeconds}s");
        Gantry.Time.Timers.CheckLongest(BusyTimeout, "busy timeout");
    }
}
