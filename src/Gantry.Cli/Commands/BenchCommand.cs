using System.CommandLine;
using Gantry.Bench;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry bench</c>: throughput and pickup latency on a fresh store.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var (jobs, concurrency, samples) = DrainOptions();
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var rounds = CliOptions.Count("--rounds", "Backlogs to drain one after another on the same store; throughput is their median, each is listed. " +
            "Later rounds run on the history the earlier ones left, as a store in service does", 1, least: 1);
        var json = CliOptions.Json();
        var limitConcurrency = CliOptions.OptionalCount("--limit-concurrency", "Drain a queue with this cluster-wide concurrency limit", least: 1);
        var limitPerKey = CliOptions.OptionalCount("--limit-per-key", "Drain a queue with this per-key limit (with --keys)", least: 1);
        var limitRate = new Option<string?>("--limit-rate") { Description = "Drain a queue with this rate limit, e.g. 100/s", HelpName = "n/unit" };
        var keys = CliOptions.Count("--keys", "Spread the backlog over this many concurrency keys (0: none)", 0, least: 0);
        var maxPrefetch = CliOptions.Count("--max-prefetch", "The worker's prefetch ceiling (jobs claimed ahead of free slots); claimed jobs count against a concurrency limit",
            Gantry.Worker.WorkerOptions.MaxPrefetchDefault, least: 0);
        var raw = new Option<bool>("--raw")
        {
            Description = "Also run a minimal batched claim/complete loop (bench/RawPostgresLoop) on the same PostgreSQL database, once per round beside the drain, " +
                "and report the drain's ratio to it",
        };
        var command = new Command("bench", "Measure throughput (drain a backlog of no-op jobs) and pickup latency (enqueue to handler start) on a fresh store")
        {
            db, storeOption, jobs, concurrency, samples, rounds, json, limitConcurrency, limitPerKey, limitRate, keys, maxPrefetch, raw, Process(), Http(), Ipc(), Node(), Workflow(), Idle(), Memory(), Prune(), Stats(), Load(), Dashboard(),
        };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(jobs);
            var c = parse.GetValue(concurrency);
            var s = parse.GetValue(samples);
            var r = parse.GetValue(rounds);

            var asJson = parse.GetValue(json);
            var limits = new Gantry.Flow.QueueLimits
            {
                Concurrency = parse.GetValue(limitConcurrency),
                PerKey = parse.GetValue(limitPerKey),
                Rate = parse.GetValue(limitRate) is { } rate ? Gantry.Flow.QueueRate.Parse(rate, "--limit-rate") : null,
            };
            var flow = new BenchFlow(limits.IsEmpty ? null : limits, parse.GetValue(keys));
            PostgresLocation? rawLoopOn = null;
            if (parse.GetValue(raw))
                rawLoopOn = parse.GetValue(storeOption) as PostgresLocation
                    ?? throw new InvalidInputException("--raw", "needs --store postgres://…: the raw loop is PostgreSQL's (for SQLite, run bench/RawSqliteLoop)");
            var result = await BenchStore.WithFreshStoreAsync(parse.GetValue(storeOption), parse.GetValue(db),
                store => new BenchRunner(store, n, c, s, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }, rounds: r, flow: flow, maxPrefetch: parse.GetValue(maxPrefetch),
                    rawLoopOn: rawLoopOn).RunAsync(ct), ct).ConfigureAwait(false);
            Print(result, n, c, s, asJson);
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>The backlog, the worker's slots and the pickup samples, as every drain benchmark takes them.</summary>
    private static (Option<int> Jobs, Option<int> Concurrency, Option<int> Samples) DrainOptions() =>
    (
        CliOptions.Count("--jobs", "Jobs in the backlog to drain", 20_000, least: 1),
        CliOptions.Count("--concurrency", "Worker slots", 16, least: 1),
        CliOptions.Count("--latency-samples", "Single jobs submitted to measure pickup latency", 500, least: 1)
    );

    private static void Print(BenchResult result, int n, int c, int s, bool asJson)
    {
        if (asJson)
        {
            Cli.WriteJson(result, BenchJson.Default.BenchResult);
            return;
        }
        Console.Out.WriteLine($"store         {result.Store}");
        Console.Out.WriteLine($"enqueue       {result.EnqueueJobsPerSecond:N0} jobs/s ({n:N0} jobs in batches)");
        Console.Out.WriteLine($"throughput    {result.JobsPerSecond:N0} jobs/s ({n:N0} jobs drained in {result.DrainSeconds:0.000}s with {c} slots)");
        if (result.Rounds > 1)
            Console.Out.WriteLine($"rounds        median of {result.Rounds}, in order: {string.Join(" / ", result.RoundsJobsPerSecond.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))} jobs/s");
        if (result.RawJobsPerSecond is { } rawRate)
            Console.Out.WriteLine($"raw loop      gantry {result.JobsPerSecond:N0} jobs/s, raw loop {rawRate:N0} jobs/s, ratio {result.RawRatio:0.00} (median of per-round ratios; raw in order: " +
                $"{string.Join(" / ", result.RawRoundsJobsPerSecond.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))} jobs/s)");
        Console.Out.WriteLine($"calls         {result.Claims:N0} claims (p50 {result.ClaimP50Ms:0.000} ms, p99 {result.ClaimP99Ms:0.000} ms), {result.ReportBatches:N0} report batches (p50 {result.ReportP50Ms:0.000} ms, p99 {result.ReportP99Ms:0.000} ms) during the drain");
        Console.Out.WriteLine($"cpu           {result.EnqueueCpuUsPerJob:0.0} µs per job enqueueing, {result.DrainCpuUsPerJob:0.0} µs per job draining (this process; {result.DrainAllocatedBytesPerJob:N0} bytes allocated per job on the {result.Link} link, {result.DrainGcs} gen0 collections, {result.DrainJitMs:0} ms compiling; after {result.WarmupJobs:N0} warm-up jobs)");
        if (result.DrainAllocations is { } top)
            Console.Out.WriteLine($"allocations   {string.Join(", ", top.Select(a => $"{a.Type} {a.Share:P0}"))}");
        Console.Out.WriteLine($"pickup        p50 {result.LatencyP50Ms:0.000} ms, p99 {result.LatencyP99Ms:0.000} ms, max {result.LatencyMaxMs:0.000} ms ({s} samples, enqueue to handler start; the enqueue call itself p50 {result.EnqueueCallP50Ms:0.000} ms)");
        Console.Out.WriteLine($"after drain   pickup p50 {result.AfterDrainLatencyP50Ms:0.000} ms, p99 {result.AfterDrainLatencyP99Ms:0.000} ms (on the queue just drained)");
    }

    /// <summary><c>gantry bench http</c>: HTTP-mode workers next to direct-store workers.</summary>
    private static Command Http()
    {
        var (jobs, concurrency, samples) = DrainOptions();
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "A PostgreSQL database to run on (fresh schemas are made in it); default: temporary SQLite files";
        var json = CliOptions.Json();
        var command = new Command("http", "Measure workers over HTTP (worker protocol, batched fetch, long poll to a real server on 127.0.0.1) next to workers on the store, in one run")
        {
            jobs, concurrency, samples, storeOption, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var (n, c, s) = (parse.GetValue(jobs), parse.GetValue(concurrency), parse.GetValue(samples));
            if (n < 1 || c < 1 || s < 1) throw new InvalidInputException("bench http", "--jobs, --concurrency and --latency-samples must be at least 1");
            var location = parse.GetValue(storeOption);
            if (location is SqliteLocation) throw new InvalidInputException("--store", "give a postgres:// database, or leave it out for temporary SQLite files");
            var asJson = parse.GetValue(json);
            var result = await HttpBench.RunAsync(location, n, c, s, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }, ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.HttpBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"direct (store)   {result.Direct.JobsPerSecond,9:N0} jobs/s   pickup p50 {result.Direct.LatencyP50Ms:0.000} ms, p99 {result.Direct.LatencyP99Ms:0.000} ms   {result.Direct.DrainAllocatedBytesPerJob,6:N0} bytes allocated per job");
            Console.Out.WriteLine($"http (protocol)  {result.Http.JobsPerSecond,9:N0} jobs/s   pickup p50 {result.Http.LatencyP50Ms:0.000} ms, p99 {result.Http.LatencyP99Ms:0.000} ms   {result.Http.DrainAllocatedBytesPerJob,6:N0} bytes allocated per job (worker and server in this process)");
            Console.Out.WriteLine($"http / direct    {result.HttpToDirectThroughput:0.00}× throughput ({n:N0} jobs, {c} slots each)");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench workflow</c>: the cost of a workflow step against a plain job, side by side.</summary>
    private static Command Workflow()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var steps = CliOptions.Count("--steps", "Steps of the fan-out/fan-in workflow, and plain jobs to compare with", 1000, least: 1);
        var concurrency = CliOptions.Count("--concurrency", "Worker slots", 16, least: 1);
        var rounds = CliOptions.Count("--rounds", "Rounds of each, alternating; the median is reported", 5, least: 1);
        var json = CliOptions.Json();
        var command = new Command("workflow", "Measure a workflow step's overhead: a fan-out/fan-in workflow of no-op steps against as many plain no-op jobs, in the same run")
        {
            db, storeOption, steps, concurrency, rounds, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(steps);
            var c = parse.GetValue(concurrency);
            var r = parse.GetValue(rounds);
            if (n < 3) throw new InvalidInputException("--steps", $"must be at least 3 (a root, a branch, a merge), got {n}");
            var asJson = parse.GetValue(json);
            var result = await BenchStore.WithFreshStoreAsync(parse.GetValue(storeOption), parse.GetValue(db),
                store => new WorkflowBench(store, n, c, r, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct), ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.WorkflowBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"store         {result.Store}");
            Console.Out.WriteLine($"plain jobs    {result.PlainMicrosecondsPerJob:N1} µs per job ({n:N0} no-op jobs, enqueue to last success, median of {r})");
            Console.Out.WriteLine($"workflow      {result.WorkflowMicrosecondsPerStep:N1} µs per step (1 → {n - 2:N0} → 1 fan-out/fan-in, create to last success, median of {r})");
            Console.Out.WriteLine($"ratio         {result.Ratio:0.00}× a plain job");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench process</c>: the overhead of a process handler.</summary>
    private static Command Process()
    {
        var samples = CliOptions.Count("--samples", "Attempts to time", 100, least: 1);
        var json = CliOptions.Json();
        var command = new Command("process", "Measure a process handler's overhead: start of an attempt to its result, for a trivial Python program") { samples, json };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(samples);
            var asJson = parse.GetValue(json);
            var result = await new ProcessBench(n, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.ProcessBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"process handler    p50 {result.ProcessP50Ms:0.00} ms, p99 {result.ProcessP99Ms:0.00} ms (no limits)");
            Console.Out.WriteLine($"with limits        p50 {result.LimitedP50Ms:0.00} ms, p99 {result.LimitedP99Ms:0.00} ms ({result.Isolation})");
            Console.Out.WriteLine($"python3 bare       p50 {result.BareP50Ms:0.00} ms, p99 {result.BareP99Ms:0.00} ms (Process.Start, same input)");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench ipc</c>: the node–worker round trip next to a raw Unix-socket ping-pong.</summary>
    private static Command Ipc()
    {
        var samples = CliOptions.Count("--samples", "Round trips of each kind to time", 20_000, least: 1);
        var client = new Option<string?>("--client") { Hidden = true }; // the worker side, in the worker process the node starts
        var node = new Argument<string[]>("node") { Hidden = true, Arity = ArgumentArity.ZeroOrMore }; // what the node adds to its worker's command line
        var json = CliOptions.Json();
        var command = new Command("ipc", "Measure the IPC round trip between a node and a worker process (report and fetch), next to a raw Unix-socket ping-pong of the same size") { samples, client, node, json };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(samples);
            if (parse.GetValue(client) is { } dir)
            {
                await IpcBench.ClientAsync(dir, n, parse.GetValue(node) ?? [], ct).ConfigureAwait(false);
                return Cli.Ok;
            }
            var asJson = parse.GetValue(json);
            var result = await new IpcBench(NodeCliOptions.GantryExecutable(), n, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.IpcBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"ipc report   p50 {result.IpcP50Us:0.0} µs, p99 {result.IpcP99Us:0.0} µs (worker process → node → in-memory coordinator → back)");
            Console.Out.WriteLine($"ipc fetch    p50 {result.FetchP50Us:0.0} µs, p99 {result.FetchP99Us:0.0} µs (one job)");
            Console.Out.WriteLine($"raw socket   p50 {result.RawP50Us:0.0} µs, p99 {result.RawP99Us:0.0} µs ({result.MessageBytes} bytes each way)");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench node</c>: a node's throughput against one in-process worker of the same capacity.</summary>
    private static Command Node()
    {
        var jobs = CliOptions.Count("--jobs", "Jobs in the backlog", 20_000, least: 1);
        var capacity = CliOptions.Count("--capacity", "Total capacity, split evenly over the node's workers", 16, least: 1);
        var workers = CliOptions.Count("--workers", "The node's worker processes", 2, least: 1);
        var rounds = CliOptions.Count("--rounds", "Measured drains of each kind after the warm-up; the medians are compared", 5, least: 1);
        var spawn = new Option<bool>("--spawn") { Description = "Measure instead a managed worker from the node's start to its first claim (p50 over --samples spawns)" };
        var spawns = CliOptions.Count("--samples", "Spawns timed with --spawn", 20, least: 1);
        var binary = new Option<string>("--binary") { Description = "With --spawn: the gantry executable the node runs its worker from (for instance the Native AOT build of build-aot.sh)" };
        var json = CliOptions.Json();
        var command = new Command("node", "Measure a node with worker processes against one in-process worker of the same total capacity (no-op jobs, fresh SQLite stores)")
        {
            jobs, capacity, workers, rounds, spawn, spawns, binary, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            if (parse.GetValue(spawn))
            {
                IReadOnlyList<string> executable = NodeCliOptions.GantryExecutable();
                if (parse.GetValue(binary) is { } program)
                    executable = File.Exists(program) ? [Path.GetFullPath(program)] : throw new InvalidInputException("--binary", $"{program} does not exist");
                var asJsonSpawn = parse.GetValue(json);
                var spawned = await NodeSpawnBench.RunAsync(executable, parse.GetValue(spawns), m => { if (!asJsonSpawn) Console.Error.WriteLine($"bench: {m}"); }, ct).ConfigureAwait(false);
                if (asJsonSpawn)
                {
                    Cli.WriteJson(spawned, BenchJson.Default.NodeSpawnResult);
                    return Cli.Ok;
                }
                Console.Out.WriteLine($"spawn to first claim   p50 {spawned.P50Ms:0} ms, fastest {spawned.MinMs:0} ms, slowest {spawned.MaxMs:0} ms ({spawned.Samples} spawns of {spawned.Executable})");
                return Cli.Ok;
            }
            if (parse.GetValue(binary) is not null) throw new InvalidInputException("--binary", "is for --spawn");
            var (n, c, w) = (parse.GetValue(jobs), parse.GetValue(capacity), parse.GetValue(workers));
            if (w < 1 || c < w) throw new InvalidInputException("--capacity", $"must be at least --workers ({w}), got {c}");
            var r = parse.GetValue(rounds);
            var asJson = parse.GetValue(json);
            var result = await new NodeBench(NodeCliOptions.GantryExecutable(), n, c, w, r, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.NodeBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"in-process worker   {result.InProcessJobsPerSecond:N0} jobs/s (capacity {c}; median of {r}: {string.Join(", ", result.InProcessRounds.Select(x => x.ToString("N0")))})");
            Console.Out.WriteLine($"node, {w} workers     {result.NodeJobsPerSecond:N0} jobs/s ({result.Ratio:P0} of in-process; median of {r}: {string.Join(", ", result.NodeRounds.Select(x => x.ToString("N0")))})");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench idle</c>: what idle workers and servers cost a PostgreSQL database, and their memory.</summary>
    private static Command Idle()
    {
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "The PostgreSQL database to run on (postgres://…); it must hold no jobs, and nothing else should use it, since every transaction in it is counted";
        var workers = CliOptions.Count("--workers", "Idle gantry worker processes", 2, least: 1);
        var servers = CliOptions.Count("--servers", "gantry server processes started beside the workers for a second count (one leads, the rest stand by); 0 for none", 1, least: 0);
        var seconds = CliOptions.Count("--seconds", "Length of each count", 30, least: 5);
        var json = CliOptions.Json();
        var command = new Command("idle", "Measure what idle workers and servers cost a PostgreSQL database (transactions per second, from pg_stat_database) and their resident memory")
        {
            storeOption, workers, servers, seconds, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            if (parse.GetValue(storeOption) is not PostgresLocation location)
                throw new InvalidInputException("--store", "give a postgres:// database: the count comes from PostgreSQL's statistics");
            var asJson = parse.GetValue(json);
            var result = await new IdleBench(NodeCliOptions.GantryExecutable(), location, parse.GetValue(workers), parse.GetValue(servers), TimeSpan.FromSeconds(parse.GetValue(seconds)),
                m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.IdleBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"idle worker   {result.TransactionsPerSecondPerWorker:0.00} transactions/s each ({result.Workers} workers, {result.WindowSeconds:0}s); RSS {string.Join(", ", result.WorkerRssMib.Select(m => $"{m:0.0}"))} MiB");
            if (result.TransactionsPerSecondPerServer is { } perServer)
                Console.Out.WriteLine($"server        {perServer:0.00} transactions/s each beside them ({result.Servers} server(s)); RSS {string.Join(", ", result.ServerRssMib.Select(m => $"{m:0.0}"))} MiB");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench memory</c>: resident memory of idle and busy processes, and a short command's wall time.</summary>
    private static Command Memory()
    {
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store (postgres://… or sqlite:path; it must hold no jobs); default: a temporary SQLite file";
        var jobs = CliOptions.Count("--jobs", "No-op jobs the worker drains before its memory is read again", 100_000, least: 1);
        var runs = CliOptions.Count("--command-runs", "Times gantry jobs show is run and timed", 10, least: 1);
        var binary = new Option<string>("--binary")
        {
            Description = "Measure this gantry executable (for instance the Native AOT build of build-aot.sh) instead of the running one",
        };
        var json = CliOptions.Json();
        var command = new Command("memory", "Measure resident memory of an idle gantry run, an idle gantry worker and the same worker after draining a backlog, the start-up of both, and the wall time of gantry jobs show")
        {
            storeOption, jobs, runs, binary, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var asJson = parse.GetValue(json);
            Action<string> progress = m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); };
            MemoryBenchResult result;
            IReadOnlyList<string> executable = NodeCliOptions.GantryExecutable();
            if (parse.GetValue(binary) is { } program)
            {
                if (!File.Exists(program)) throw new InvalidInputException("--binary", $"{program} does not exist");
                executable = [Path.GetFullPath(program)];
            }
            if (parse.GetValue(storeOption) is { } location)
            {
                if (location is SqliteLocation { Path: var file } && File.Exists(file))
                    throw new InvalidInputException("--store", $"{file} exists; the benchmark needs a fresh store");
                result = await new MemoryBench(location, parse.GetValue(jobs), parse.GetValue(runs), executable, progress).RunAsync(ct).ConfigureAwait(false);
            }
            else
            {
                var dir = Directory.CreateTempSubdirectory("gantry-bench-memory-").FullName;
                try
                {
                    result = await new MemoryBench(new SqliteLocation(Path.Combine(dir, "bench.db")), parse.GetValue(jobs), parse.GetValue(runs), executable, progress).RunAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.MemoryBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"store              {result.Store}");
            Console.Out.WriteLine($"executable         {result.Executable}");
            Console.Out.WriteLine($"gantry run idle    {result.RunIdleRssMib:0.0} MiB RSS (up in {result.RunStartupMs:0} ms)");
            Console.Out.WriteLine($"worker idle        {result.WorkerIdleRssMib:0.0} MiB RSS (up in {result.WorkerStartupMs:0} ms)");
            Console.Out.WriteLine($"worker drained     {result.WorkerDrainedRssMib:0.0} MiB RSS after {result.Jobs:N0} jobs in {result.DrainSeconds:0.0}s (peak {result.WorkerPeakRssMib:0.0} MiB)");
            Console.Out.WriteLine($"gantry jobs show   p50 {result.JobsShowP50Ms:0} ms, fastest {result.JobsShowMinMs:0} ms ({result.JobsShowRuns} runs, start to exit)");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench prune</c>: a drain beside the cleaner pruning a large history, against the same drain alone.</summary>
    private static Command Prune()
    {
        var history = CliOptions.Count("--history", "Finished jobs past retention in the store when the drains start", 1_000_000, least: 1);
        var drain = CliOptions.Count("--jobs", "Jobs in each drain", 200_000, least: 1);
        var rounds = CliOptions.Count("--rounds", "Rounds, each on a fresh store, alternating which drain goes first; the change reported balances the two orders", 4, least: 1);
        var json = CliOptions.Json();
        var command = new Command("prune", "Measure how much slower a drain is with the cleaner pruning a large history beside it (fresh SQLite stores)")
        {
            history, drain, rounds, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var asJson = parse.GetValue(json);
            var result = await new PruneBench(parse.GetValue(history), parse.GetValue(drain), parse.GetValue(rounds),
                m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.PruneBenchResult);
                return Cli.Ok;
            }
            foreach (var (r, i) in result.Rounds.Select((r, i) => (r, i)))
                Console.Out.WriteLine($"round {i + 1}   alone {r.AloneJobsPerSecond,9:N0} jobs/s   beside pruning {r.PruningJobsPerSecond,9:N0} jobs/s   {r.ChangePercent,6:+0.0;-0.0}%   {r.Pruned:N0} pruned meanwhile");
            Console.Out.WriteLine($"change        {result.ChangePercent:+0.0;-0.0}% beside pruning, the two orders balanced ({result.History:N0} old jobs, drains of {result.Drain:N0}, cleaner batches of {result.CleanerBatch:N0})");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench load</c>: end-to-end latency at fixed offered rates.</summary>
    private static Command Load()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var submit = new Option<string>("--submit")
        {
            Description = "How jobs arrive: api (each its own POST /api/v1/jobs to a real server on 127.0.0.1, as a web app submits) or batch " +
                $"(the jobs that arrived in {LoadBench.BatchTick.TotalMilliseconds:0} ms enqueued by one call)",
            DefaultValueFactory = _ => "batch",
            HelpName = "api|batch",
        };
        var rate = new Option<string?>("--rate") { Description = "Offered rates in jobs per second, comma-separated (instead of --offered)", HelpName = "n[,n…]" };
        var offered = new Option<string>("--offered")
        {
            Description = "Offered rates as percentages of the drain rate measured first on the same store, comma-separated",
            DefaultValueFactory = _ => "10,50,80",
            HelpName = "pct[,pct…]",
        };
        var seconds = CliOptions.Count("--seconds", "How long each rate is offered", 10, least: 1);
        var concurrency = CliOptions.Count("--concurrency", "Worker slots", 16, least: 1);
        var ceilingSeconds = CliOptions.Count("--ceiling-seconds", "With --submit api: how long each of the six closed-loop rounds of the submit ceiling runs", 5, least: 1);
        var json = CliOptions.Json();
        var command = new Command("load", "Measure end-to-end latency (arrival to success committed, p50/p99/p99.9) at fixed offered rates, and the database's CPU per 1,000 jobs; " +
            "with --submit api also the submit rate of 32 submitters through the API against a minimal endpoint doing the same insert")
        {
            db, storeOption, submit, rate, offered, seconds, concurrency, ceilingSeconds, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var how = parse.GetValue(submit) switch
            {
                "api" => LoadSubmit.Api,
                "batch" => LoadSubmit.Batch,
                var other => throw new InvalidInputException("--submit", $"'{other}' is not api or batch"),
            };
            var rates = parse.GetValue(rate) is { } r ? Numbers(r, "--rate", 1, 1_000_000) : [];
            var percents = rates.Length > 0 ? [] : Numbers(parse.GetValue(offered)!, "--offered", 1, 100);
            var asJson = parse.GetValue(json);
            var location = parse.GetValue(storeOption);
            var result = await BenchStore.WithFreshStoreAsync(parse.GetValue(storeOption), parse.GetValue(db),
                store => new LoadBench(store, location, how, percents, rates, TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(concurrency),
                    TimeSpan.FromSeconds(parse.GetValue(ceilingSeconds)), m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct), ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.LoadBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"store         {result.Store}");
            Console.Out.WriteLine($"drain rate    {result.DrainJobsPerSecond:N0} jobs/s ({result.Concurrency} slots; the rates below are offered for {result.SecondsPerLevel:0}s each, {result.Submit} submits; percentages of {result.PercentOf})");
            Console.Out.WriteLine($"offered       accepted     p50 ms    p99 ms  p99.9 ms    db cpu s/1000   process cpu s/1000");
            foreach (var l in result.Levels)
                Console.Out.WriteLine($"{l.OfferedJobsPerSecond,7:N0}/s{(l.PercentOfDrain is { } p ? $" {p,3:0}%" : "     ")} {l.AcceptedJobsPerSecond,7:N0}/s {l.LatencyP50Ms,9:0.00} {l.LatencyP99Ms,9:0.00} {l.LatencyP999Ms,9:0.00}    {(l.DatabaseCpuSecondsPer1000Jobs is { } d ? d.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) : "-"),13}   {l.ProcessCpuSecondsPer1000Jobs,18:0.000}");
            Console.Out.WriteLine($"database cpu  {result.DatabaseCpu}");
            if (result.Ceiling is { } c)
            {
                Console.Out.WriteLine($"submit api    {c.ApiJobsPerSecond:N0} jobs/s with {c.Submitters} submitters, call p50 {c.ApiCallP50Ms:0.00} ms, p99 {c.ApiCallP99Ms:0.00} ms (POST /api/v1/jobs; rounds {string.Join(" / ", c.ApiRounds.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))})");
                Console.Out.WriteLine($"submit min    {c.MinimalJobsPerSecond:N0} jobs/s with {c.Submitters} submitters, call p50 {c.MinimalCallP50Ms:0.00} ms, p99 {c.MinimalCallP99Ms:0.00} ms (a minimal endpoint, the same insert; rounds {string.Join(" / ", c.MinimalRounds.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))})");
            }
            Console.Out.WriteLine($"machine       {result.Machine}");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>Comma-separated numbers, each within [<paramref name="least"/>, <paramref name="most"/>].</summary>
    private static double[] Numbers(string text, string option, double least, double most) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries).Select(t =>
            double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= least && v <= most
                ? v : throw new InvalidInputException(option, $"'{t}' is not a number from {least:0} to {most:0}"))];

    /// <summary><c>gantry bench stats</c>: queue statistics over a large history.</summary>
    private static Command Stats()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var history = CliOptions.Count("--history", "Jobs run to their end before the statistics are read", 1_000_000, least: 1);
        var queues = CliOptions.Count("--queues", "Queues the history is spread over", 4, least: 1);
        var reads = CliOptions.Count("--reads", "Reads of the statistics timed", 50, least: 1);
        var json = CliOptions.Json();
        var command = new Command("stats", "Measure how long queue statistics (gantry queues, /api/v1/queues, /metrics) take over a large history")
        {
            db, storeOption, history, queues, reads, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var asJson = parse.GetValue(json);
            var result = await BenchStore.WithFreshStoreAsync(parse.GetValue(storeOption), parse.GetValue(db),
                store => new StatsBench(store, parse.GetValue(history), parse.GetValue(queues), parse.GetValue(reads),
                    m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct), ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.StatsBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"store         {result.Store}");
            Console.Out.WriteLine($"history       {result.History:N0} finished jobs in {result.Queues} queues ({result.FillSeconds:0.0}s to make), {result.JobsCounted:N0} counted");
            Console.Out.WriteLine($"queue stats   p50 {result.P50Ms:0.000} ms, p99 {result.P99Ms:0.000} ms, max {result.MaxMs:0.000} ms ({result.Reads} reads)");
            return Cli.Ok;
        });
        return command;
    }

    /// <summary><c>gantry bench dashboard</c>: the API calls of each dashboard view over a large history.</summary>
    private static Command Dashboard()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var history = CliOptions.Count("--history", "Jobs run to their end before the views are timed", 1_000_000, least: 2_000);
        var reads = CliOptions.Count("--reads", "Calls timed per view", 50, least: 1);
        var json = CliOptions.Json();
        var command = new Command("dashboard", "Measure the API calls each dashboard view makes, and its first view, over a large history")
        {
            db, storeOption, history, reads, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var asJson = parse.GetValue(json);
            var result = await BenchStore.WithFreshStoreAsync(parse.GetValue(storeOption), parse.GetValue(db),
                store => new DashboardBench(store, parse.GetValue(history), parse.GetValue(reads),
                    m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct), ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, BenchJson.Default.DashboardBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"store         {result.Store}");
            Console.Out.WriteLine($"history       {result.History:N0} finished jobs ({result.FillSeconds:0.0}s to make)");
            foreach (var c in result.Calls)
                Console.Out.WriteLine($"{c.View,-48} p50 {c.P50Ms,8:0.000} ms   p99 {c.P99Ms,8:0.000} ms   {c.Rows,5} rows");
            Console.Out.WriteLine($"{"first view (page, files, session, overview)",-48} p50 {result.FirstViewP50Ms,8:0.000} ms   p99 {result.FirstViewP99Ms,8:0.000} ms");
            return Cli.Ok;
        });
        return command;
    }
}
