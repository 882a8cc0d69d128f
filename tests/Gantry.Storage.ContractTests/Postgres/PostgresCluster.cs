using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Gantry.Testing;

/// <summary>
/// A PostgreSQL server for tests: the one named by <c>GANTRY_TEST_POSTGRES</c> (a connection
/// string), or else a throwaway cluster made with initdb in a temporary directory and started
/// with pg_ctl on a free loopback port, durability switched off for speed, removed on dispose.
/// PostgreSQL refuses to run as root, so as root the binaries run as the postgres user.
/// Shared by the contract tests and the CLI tests (linked into both).
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string? _dir;
    private readonly string? _bin;
    private readonly string? _settings;

    private PostgresCluster(string connectionString, string? dir, string? bin, string? settings = null)
    {
        ConnectionString = connectionString;
        _dir = dir;
        _bin = bin;
        _settings = settings;
    }

    /// <summary>Connects as a superuser to the <c>postgres</c> database (or to what GANTRY_TEST_POSTGRES names).</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresCluster> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("GANTRY_TEST_POSTGRES") is { Length: > 0 } given)
            return new PostgresCluster(given, null, null);
        var bin = FindBinaries();
        var dir = Path.Combine(Path.GetTempPath(), "gantry-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var asRoot = Environment.UserName == "root";
        if (asRoot) await RunAsync("chown", ["-R", "postgres:postgres", dir], asPostgres: false);
        var data = Path.Combine(dir, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], asRoot);
        var port = FreePort();
        var settings = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "-o", settings, "start"], asRoot);
        var cs = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres" }.ConnectionString;
        return new PostgresCluster(cs, dir, bin, settings);
    }

    /// <summary>Restarts the server (fast shutdown: sessions are cut, open transactions roll back), as an
    /// operator or a crash-and-recover would; only for a throwaway cluster.</summary>
    public async Task RestartAsync()
    {
        if (_dir is null || _bin is null) throw new InvalidOperationException("cannot restart a server named by GANTRY_TEST_POSTGRES");
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "log"), "-m", "fast", "-w", "-t", "60", "-o", _settings!, "restart"],
            Environment.UserName == "root");
        // Pooled connections of this process died with the old server: later statements must not pick them up.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>True when the server is a throwaway cluster this process can restart.</summary>
    public bool CanRestart => _dir is not null;

    /// <summary>The connection string with another database.</summary>
    public string ForDatabase(string database) => new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    /// <summary>A <c>postgres://</c> URL for the cluster's database <paramref name="database"/> (default: the connection string's).</summary>
    public string Url(string? database = null)
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        var user = Uri.EscapeDataString(b.Username ?? "postgres") + (string.IsNullOrEmpty(b.Password) ? "" : ":" + Uri.EscapeDataString(b.Password));
        return $"postgres://{user}@{b.Host}:{b.Port}/{Uri.EscapeDataString(database ?? b.Database ?? "postgres")}";
    }

    /// <summary>Runs one statement as the superuser.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row of <paramref name="sql"/>.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    private static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .ToArray()
            : [];
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException(
            "no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql), and GANTRY_TEST_POSTGRES is not set");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres)
    {
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres) { psi.ArgumentList.Add("-u"); psi.ArgumentList.Add("postgres"); psi.ArgumentList.Add("--"); psi.ArgumentList.Add(file); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        // initdb and pg_ctl run from a directory the postgres user can read.
        psi.WorkingDirectory = "/";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {p.ExitCode}: {await stderr}{await stdout}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_dir is null || _bin is null) return;
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"], Environment.UserName == "root");
        }
        catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
