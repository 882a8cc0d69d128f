using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Gantry.TestSupport;

/// <summary>
/// A real SQLite store on a file in a directory of its own, reading a fake clock (<see cref="Time"/>), so that leases
/// expire and jobs come due when the test moves the clock rather than after real time. Deleted on dispose.
/// </summary>
public sealed class TempSqliteStore : IAsyncDisposable
{
    private readonly List<IJobStore> _opened = [];

    private TempSqliteStore(string directory, FakeTimeProvider time)
    {
        Directory = directory;
        Time = time;
    }

    /// <summary>The directory holding the database file.</summary>
    public string Directory { get; }

    /// <summary>Path of the database file.</summary>
    public string Path => System.IO.Path.Combine(Directory, "gantry.db");

    /// <summary>The clock the store reads; only the test moves it.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The store first opened.</summary>
    public IJobStore Store { get; private set; } = null!;

    /// <summary>Creates a store on a new file, reading <paramref name="time"/> (a new <see cref="TestClock"/> when null).</summary>
    public static async Task<TempSqliteStore> CreateAsync(FakeTimeProvider? time = null, CancellationToken ct = default)
    {
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gantry-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var temp = new TempSqliteStore(directory, time ?? TestClock.New());
        temp.Store = await temp.OpenAnotherAsync(ct);
        return temp;
    }

    /// <summary>Another store instance on the same file, as another process would open it; disposed with this one.</summary>
    public async Task<IJobStore> OpenAnotherAsync(CancellationToken ct = default)
    {
        var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path, Time = Time }, ct);
        lock (_opened) _opened.Add(store);
        return store;
    }

    public async ValueTask DisposeAsync()
    {
        List<IJobStore> opened;
        lock (_opened) opened = [.. _opened];
        foreach (var store in opened) await store.DisposeAsync();
        // Pooled connections keep the file open; release them before deleting.
        SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
