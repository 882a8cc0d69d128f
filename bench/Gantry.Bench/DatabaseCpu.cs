using System.Globalization;
using Gantry.Hosting;
using Npgsql;

namespace Gantry.Bench;

/// <summary>
/// CPU seconds the PostgreSQL server spent, read from its processes in /proc when it runs on this host: the postmaster
/// (with what its exited children spent) and every live child (backends, WAL writer, checkpointer, autovacuum). Null
/// readings when the server is elsewhere, or the store is SQLite (which runs inside the benchmark's own process).
/// </summary>
internal sealed class DatabaseCpu
{
    private readonly int? _postmaster;

    private DatabaseCpu(int? postmaster, string describes)
    {
        _postmaster = postmaster;
        Describes = describes;
    }

    /// <summary>What the readings are, or why there are none.</summary>
    public string Describes { get; }

    public static async Task<DatabaseCpu> OpenAsync(StoreLocation? location, CancellationToken ct)
    {
        if (location is not PostgresLocation pg)
            return new(null, "none apart: SQLite runs inside this process, so its CPU is in the process's");
        await using var c = new NpgsqlConnection(pg.ConnectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("SELECT pg_backend_pid()", c);
        var backend = (int)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        if (Stat(backend) is not { } stat)
            return new(null, "none: the PostgreSQL server does not run on this host (its processes are not in /proc)");
        return new(int.Parse(stat[1], CultureInfo.InvariantCulture), "the PostgreSQL server's processes on this host (/proc: the postmaster, its children, and its exited children)");
    }

    /// <summary>CPU seconds the server has spent so far; null without a server on this host.</summary>
    public Task<double?> ReadAsync(CancellationToken ct)
    {
        if (_postmaster is not { } postmaster || Stat(postmaster) is not { } own) return Task.FromResult<double?>(null);
        // The postmaster's own time, and that of its children already reaped (utime, stime, cutime, cstime).
        var ticks = own[11..15].Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || Stat(pid) is not { } s) continue;
            if (int.Parse(s[1], CultureInfo.InvariantCulture) == postmaster)
                ticks += long.Parse(s[11], CultureInfo.InvariantCulture) + long.Parse(s[12], CultureInfo.InvariantCulture);
        }
        return Task.FromResult<double?>(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>Linux's USER_HZ, 100 on every architecture .NET runs on.</summary>
    private const int ClockTicksPerSecond = 100;

    /// <summary>The fields of /proc/PID/stat after the command name (state, ppid, …, utime at 11, stime 12, cutime 13, cstime 14); null if gone.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
