using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SQLitePCL;

namespace Gantry.Storage.Sqlite.Native;

/// <summary>
/// Waits for another process's lock in milliseconds. The bundled SQLite is built without
/// usleep, so its own busy timeout sleeps in whole seconds: every lock conflict between two
/// processes on one file would cost a second. SQLitePCLRaw does not expose
/// <c>sqlite3_busy_handler</c>, so it is called here directly.
/// </summary>
internal static unsafe partial class BusyWait
{
    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_busy_handler")]
    private static partial int SetBusyHandler(IntPtr db, delegate* unmanaged[Cdecl]<IntPtr, int, int> handler, IntPtr arg);

    /// <summary>Makes <paramref name="db"/> retry a busy lock every millisecond or so, for up to <paramref name="timeout"/>.</summary>
    public static void Install(sqlite3 db, TimeSpan timeout)
    {
        var rc = SetBusyHandler(db.DangerousGetHandle(), &OnBusy, (IntPtr)Math.Max(1, (long)timeout.TotalMilliseconds));
        if (rc != raw.SQLITE_OK) raw.sqlite3_busy_timeout(db, (int)timeout.TotalMilliseconds);
    }

    /// <summary>Called by SQLite with how often it has retried; returns 0 to give up.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnBusy(IntPtr timeoutMs, int count)
    {
        // 1 ms for the first 20 retries, then 5 ms: quick for short transactions, light for long ones.
        var waited = count < 20 ? count : 20 + (count - 20) * 5L;
        if (waited >= (long)timeoutMs) return 0;
        Thread.Sleep(count < 20 ? 1 : 5);
        return 1;
    }
}
