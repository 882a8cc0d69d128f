using System.Diagnostics;
using Gantry.Hosting;
using Gantry.Storage;
using Npgsql;

namespace Gantry.Bench;

/// <summary>
/// What idle Gantry processes cost a PostgreSQL database: transactions per second, from the database's own count
/// (<c>pg_stat_database</c>), first with <c>workers</c> idle <c>gantry worker</c> processes alone, then with
/// <c>servers</c> <c>gantry server</c> processes beside them (one leads, the rest stand by), each less what the
/// database did on its own before any of them started, and the resident memory
/// of each process at the end. Every process of the run is a real one, started from <paramref name="gantry"/> on the store given;
/// the database should be one nothing else uses, since everything that happens in it is counted.
/// </summary>
/// <param name="gantry">The gantry program the processes are started from, and its leading arguments.</param>
public sealed class IdleBench(IReadOnlyList<string> gantry, PostgresLocation store, int workers, int servers, TimeSpan window, Action<string> progress)
{
    /// <summary>Time for the processes, once up, to register, elect and settle before the count begins.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public async Task<IdleBenchResult> RunAsync(CancellationToken ct)
    {
        await using (var check = await Stores.OpenAsync(store, createIfMissing: true, ct).ConfigureAwait(false))
            await BenchStore.RequireEmptyAsync(check, ct).ConfigureAwait(false);

        // What the database does with none of the processes (autovacuum and analyze of a fresh schema, the statistics
        // collector): counted first, and taken off each count.
        progress($"the database alone for {window.TotalSeconds:0}s");
        var baseline = await TransactionsPerSecondAsync(ct).ConfigureAwait(false);
        var started = new List<BenchProcess>();
        // The store through the environment, so a password in it does not show in the process list.
        var environment = new Dictionary<string, string> { ["GANTRY_STORE"] = store.Url };
        try
        {
            progress($"{workers} idle worker(s); counting for {window.TotalSeconds:0}s once they are up and {Settle.TotalSeconds:0}s have passed");
            for (var i = 0; i < workers; i++) started.Add(BenchProcess.Start(gantry, environment, "worker", "--queues", "default:4"));
            var workersAlone = await CountAsync(started, ct).ConfigureAwait(false);
            var workerRss = started.Select(s => s.ResidentMiB()).ToArray();

            double? withServers = null;
            double[] serverRss = [];
            if (servers > 0)
            {
                progress($"{servers} server(s) beside them (one leads, the rest stand by)");
                var first = started.Count;
                for (var i = 0; i < servers; i++) started.Add(BenchProcess.Start(gantry, environment, "server", "--listen", "127.0.0.1:0"));
                withServers = await CountAsync(started, ct).ConfigureAwait(false);
                serverRss = started.Skip(first).Select(s => s.ResidentMiB()).ToArray();
            }
            return new IdleBenchResult
            {
                Store = store.Display,
                Workers = workers,
                Servers = servers,
                WindowSeconds = window.TotalSeconds,
                BaselineTransactionsPerSecond = Math.Round(baseline, 3),
                TransactionsPerSecondPerWorker = Math.Round(Math.Max(0, workersAlone - baseline) / workers, 3),
                TransactionsPerSecondPerServer = withServers is { } all ? Math.Round((all - workersAlone) / servers, 3) : null,
                WorkerRssMib = workerRss,
                ServerRssMib = serverRss,
            };
        }
        finally
        {
            foreach (var p in started) p.Dispose();
        }
    }

    /// <summary>Waits until every process is up and has settled, counts, and checks they all stayed up.</summary>
    private async Task<double> CountAsync(IReadOnlyList<BenchProcess> processes, CancellationToken ct)
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
}

/// <summary>What <c>gantry bench idle --json</c> prints.</summary>
public sealed record IdleBenchResult
{
    public required string Store { get; init; }
    public required int Workers { get; init; }
    public required int Servers { get; init; }
    public required double WindowSeconds { get; init; }
    /// <summary>The database's transactions per second before any process started (taken off the figures below).</summary>
    public required double BaselineTransactionsPerSecond { get; init; }
    /// <summary>The database's transactions per second with the workers alone, less the baseline, divided by their number.</summary>
    public required double TransactionsPerSecondPerWorker { get; init; }
    /// <summary>What the servers added, divided by their number; null without servers.</summary>
    public double? TransactionsPerSecondPerServer { get; init; }
    public required double[] WorkerRssMib { get; init; }
    public required double[] ServerRssMib { get; init; }
}
