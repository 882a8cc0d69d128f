using System.Diagnostics;
using Gantry.Cli.Hosting;
using Gantry.Storage;
using Npgsql;

namespace Gantry.Cli.Bench;

/// <summary>
/// What idle Gantry processes cost a PostgreSQL database: transactions per second, from the database's own count
/// (<c>pg_stat_database</c>), first with <c>workers</c> idle <c>gantry worker</c> processes alone, then with
/// <c>servers</c> <c>gantry server</c> processes beside them (one leads, the rest stand by), and the resident memory
/// of each process at the end. Every process of the run is a real one, started from this executable on the store given;
/// the database should be one nothing else uses, since everything that happens in it is counted.
/// </summary>
internal sealed class IdleBench(PostgresLocation store, int workers, int servers, TimeSpan window, Action<string> progress)
{
    /// <summary>Time for the processes, once up, to register, elect and settle before the count begins.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public async Task<IdleBenchResult> RunAsync(CancellationToken ct)
    {
        var self = Options.NodeCliOptions.GantryExecutable();
        await using (var check = await Stores.OpenAsync(store, createIfMissing: true, ct).ConfigureAwait(false))
            await BenchStore.RequireEmptyAsync(check, ct).ConfigureAwait(false);

        var started = new List<Started>();
        try
        {
            progress($"{workers} idle worker(s); counting for {window.TotalSeconds:0}s once they are up and {Settle.TotalSeconds:0}s have passed");
            for (var i = 0; i < workers; i++) started.Add(Start(self, "worker", "--queues", "default:4"));
            var workersAlone = await CountAsync(started, ct).ConfigureAwait(false);
            var workerRss = started.Select(s => ResidentMiB(s.Process)).ToArray();

            double? withServers = null;
            double[] serverRss = [];
            if (servers > 0)
            {
                progress($"{servers} server(s) beside them (one leads, the rest stand by)");
                var first = started.Count;
                for (var i = 0; i < servers; i++) started.Add(Start(self, "server", "--listen", "127.0.0.1:0"));
                withServers = await CountAsync(started, ct).ConfigureAwait(false);
                serverRss = started.Skip(first).Select(s => ResidentMiB(s.Process)).ToArray();
            }
            return new IdleBenchResult
            {
                Store = store.Display,
                Workers = workers,
                Servers = servers,
                WindowSeconds = window.TotalSeconds,
                TransactionsPerSecondPerWorker = Math.Round(workersAlone / workers, 3),
                TransactionsPerSecondPerServer = withServers is { } all ? Math.Round((all - workersAlone) / servers, 3) : null,
                WorkerRssMib = workerRss,
                ServerRssMib = serverRss,
            };
        }
        finally
        {
            foreach (var p in started) Stop(p.Process);
        }
    }

    private Started Start(IReadOnlyList<string> self, string command, params string[] args)
    {
        var info = new ProcessStartInfo(self[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in self.Skip(1)) info.ArgumentList.Add(a);
        info.ArgumentList.Add(command);
        foreach (var a in args) info.ArgumentList.Add(a);
        // The store through the environment, so a password in it does not show in the process list.
        info.Environment["GANTRY_STORE"] = store.Url;
        var p = Process.Start(info) ?? throw new GantryException($"could not start gantry {command}");
        var started = new Started(command, p);
        p.OutputDataReceived += (_, e) => started.Line(e.Data);
        p.ErrorDataReceived += (_, e) => started.Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return started;
    }

    /// <summary>A process of the run: its last lines of output (to say why, if it ends early) and when it is up.</summary>
    private sealed class Started(string command, Process process)
    {
        private readonly Queue<string> _tail = new();
        private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Process Process => process;

        public void Line(string? line)
        {
            if (line is null) return;
            lock (_tail)
            {
                _tail.Enqueue(line);
                if (_tail.Count > 5) _tail.Dequeue();
            }
            if (line.Contains("Press Ctrl-C to stop.", StringComparison.Ordinal)) _up.TrySetResult();
        }

        public async Task UpAsync(CancellationToken ct)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromMinutes(2));
            await Task.WhenAny(_up.Task, process.WaitForExitAsync(limit.Token)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (!_up.Task.IsCompleted) ThrowEnded();
        }

        /// <summary>Throws if the process is no longer running: a count with it gone would mean nothing.</summary>
        public void CheckAlive()
        {
            if (process.HasExited) ThrowEnded();
        }

        private void ThrowEnded()
        {
            string tail;
            lock (_tail) tail = string.Join(" | ", _tail);
            throw new GantryException(process.HasExited
                ? $"gantry {command} exited ({process.ExitCode}) during the run: {tail}"
                : $"gantry {command} did not start within 2 minutes: {tail}");
        }
    }

    private static void Stop(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                Gantry.Worker.Isolation.PosixSignals.ToProcess(p.Id, Gantry.Worker.Isolation.PosixSignals.SigTerm);
                if (!p.WaitForExit(TimeSpan.FromSeconds(30))) p.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) { /* never started, or already reaped */ }
        p.Dispose();
    }

    /// <summary>Waits until every process is up and has settled, counts, and checks they all stayed up.</summary>
    private async Task<double> CountAsync(IReadOnlyList<Started> processes, CancellationToken ct)
    {
        foreach (var p in processes) await p.UpAsync(ct).ConfigureAwait(false);
        await Task.Delay(Settle, ct).ConfigureAwait(false);
        var perSecond = await TransactionsPerSecondAsync(ct).ConfigureAwait(false);
        foreach (var p in processes) p.CheckAlive();
        return perSecond;
    }

    /// <summary>Transactions per second the database committed or rolled back over the window, less the one of this count.</summary>
    private async Task<double> TransactionsPerSecondAsync(CancellationToken ct)
    {
        await using var c = new NpgsqlConnection(store.ConnectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        var before = await CountAsync(c, ct).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await Task.Delay(window, ct).ConfigureAwait(false);
        // Backends publish their counts to the statistics system at most once a second: read after a pause, as at the start.
        var after = await CountAsync(c, ct).ConfigureAwait(false);
        return Math.Max(0, after - before - 1) / clock.Elapsed.TotalSeconds;
    }

    private static async Task<long> CountAsync(NpgsqlConnection c, CancellationToken ct)
    {
        // A fresh snapshot of the statistics: within one transaction PostgreSQL would repeat the first reading.
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", c)) await clear.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", c);
        return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    /// <summary>The process's resident set (VmRSS), in MiB.</summary>
    internal static double ResidentMiB(Process p)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return Math.Round(long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024.0, 1);
        }
        catch (IOException) { }
        return double.NaN;
    }
}

/// <summary>What <c>gantry bench idle --json</c> prints.</summary>
internal sealed record IdleBenchResult
{
    public required string Store { get; init; }
    public required int Workers { get; init; }
    public required int Servers { get; init; }
    public required double WindowSeconds { get; init; }
    /// <summary>The database's transactions per second with the workers alone, divided by their number.</summary>
    public required double TransactionsPerSecondPerWorker { get; init; }
    /// <summary>What the servers added, divided by their number; null without servers.</summary>
    public double? TransactionsPerSecondPerServer { get; init; }
    public required double[] WorkerRssMib { get; init; }
    public required double[] ServerRssMib { get; init; }
}
