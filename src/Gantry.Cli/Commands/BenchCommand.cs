using System.Text.Json.Serialization.Metadata;
using Gantry.Bench;

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
        var limitRate = CliOptions.Rate("--limit-rate", "Drain a queue with this rate limit, e.g. 100/s");
        var limitRatePerKey = CliOptions.Rate("--limit-rate-per-key", "Drain a queue with this rate per concurrency key (with --keys), e.g. 10/s");
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
            db, storeOption, jobs, concurrency, samples, rounds, json, limitConcurrency, limitPerKey, limitRate, limitRatePerKey, keys, maxPrefetch, raw, Process(), Http(), Ipc(), Node(), Workflow(), Idle(), Memory(), Prune(), Stats(), Load(), Dashboard(),
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
                Rate = parse.GetValue(limitRate),
                RatePerKey = parse.GetValue(limitRatePerKey),
            };
            var flow = new BenchFlow(limits.IsEmpty ? null : limits, parse.GetValue(keys));
            PostgresLocation? rawLoopOn = null;
            if (parse.GetValue(raw))
                rawLoopOn = parse.GetValue(storeOption) as PostgresLocation
                    ?? throw new InvalidInputException("--raw", "needs --store postgres://…: the raw loop is PostgreSQL's (for SQLite, run bench/RawSqliteLoop)");
            var result = await BenchStore.WithFreshStoreAsync(parse.GetValue(storeOption), parse.GetValue(db),
                store => new BenchRunner(store, n, c, s, Progress(asJson), rounds: r, flow: flow, maxPrefetch: parse.GetValue(maxPrefetch),
                    rawLoopOn: rawLoopOn).RunAsync(ct), ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.BenchResult, asJson, BenchText.Write);
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

    /// <summary>A benchmark's result as JSON (<c>--json</c>) or as text for people.</summary>
    private static int Print<T>(T result, JsonTypeInfo<T> json, bool asJson, Action<TextWriter, T> text)
    {
        if (asJson) Cli.WriteJson(result, json);
        else text(Console.Out, result);
        return Cli.Ok;
    }

    /// <summary>A benchmark's progress, on standard error unless it prints JSON.</summary>
    private static Action<string> Progress(bool asJson) => m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); };

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
            var result = await HttpBench.RunAsync(location, n, c, s, Progress(asJson), ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.HttpBenchResult, asJson, BenchText.Write);
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
                store => new WorkflowBench(store, n, c, r, Progress(asJson)).RunAsync(ct), ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.WorkflowBenchResult, asJson, BenchText.Write);
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
            var result = await new ProcessBench(n, Progress(asJson)).RunAsync(ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.ProcessBenchResult, asJson, BenchText.Write);
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
            var result = await new IpcBench(NodeCliOptions.GantryExecutable(), n, Progress(asJson)).RunAsync(ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.IpcBenchResult, asJson, BenchText.Write);
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
                var spawned = await NodeSpawnBench.RunAsync(executable, parse.GetValue(spawns), Progress(asJsonSpawn), ct).ConfigureAwait(false);
                return Print(spawned, BenchJson.Default.NodeSpawnResult, asJsonSpawn, BenchText.Write);
            }
            if (parse.GetValue(binary) is not null) throw new InvalidInputException("--binary", "is for --spawn");
            var (n, c, w) = (parse.GetValue(jobs), parse.GetValue(capacity), parse.GetValue(workers));
            if (w < 1 || c < w) throw new InvalidInputException("--capacity", $"must be at least --workers ({w}), got {c}");
            var r = parse.GetValue(rounds);
            var asJson = parse.GetValue(json);
            var result = await new NodeBench(NodeCliOptions.GantryExecutable(), n, c, w, r, Progress(asJson)).RunAsync(ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.NodeBenchResult, asJson, BenchText.Write);
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
                Progress(asJson)).RunAsync(ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.IdleBenchResult, asJson, BenchText.Write);
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
        var workerBinary = new Option<string>("--worker-binary")
        {
            Description = "Run the worker (idle, drained) with this executable, e.g. artifacts/gantry-aot/gantry-worker, while gantry run and jobs show use --binary (default: the same as they)",
        };
        var json = CliOptions.Json();
        var command = new Command("memory", "Measure resident memory of an idle gantry run, an idle gantry worker and the same worker after draining a backlog, the start-up of both, and the wall time of gantry jobs show")
        {
            storeOption, jobs, runs, binary, workerBinary, json,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var asJson = parse.GetValue(json);
            Action<string> progress = Progress(asJson);
            MemoryBenchResult result;
            IReadOnlyList<string> executable = NodeCliOptions.GantryExecutable();
            if (parse.GetValue(binary) is { } program)
            {
                if (!File.Exists(program)) throw new InvalidInputException("--binary", $"{program} does not exist");
                executable = [Path.GetFullPath(program)];
            }
            IReadOnlyList<string>? worker = parse.GetValue(workerBinary) is { } slim ? NodeCliOptions.WorkerExecutable(slim) : null;
            if (parse.GetValue(storeOption) is { } location)
            {
                if (location is SqliteLocation { Path: var file } && File.Exists(file))
                    throw new InvalidInputException("--store", $"{file} exists; the benchmark needs a fresh store");
                result = await new MemoryBench(location, parse.GetValue(jobs), parse.GetValue(runs), executable, progress, worker).RunAsync(ct).ConfigureAwait(false);
            }
            else
            {
                var dir = Directory.CreateTempSubdirectory("gantry-bench-memory-").FullName;
                try
                {
                    result = await new MemoryBench(new SqliteLocation(Path.Combine(dir, "bench.db")), parse.GetValue(jobs), parse.GetValue(runs), executable, progress, worker).RunAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            return Print(result, BenchJson.Default.MemoryBenchResult, asJson, BenchText.Write);
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
                Progress(asJson)).RunAsync(ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.PruneBenchResult, asJson, BenchText.Write);
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
                $"(the jobs that arrived in {LoadBench.BatchTickMs} ms enqueued by one call)",
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
                    TimeSpan.FromSeconds(parse.GetValue(ceilingSeconds)), Progress(asJson)).RunAsync(ct), ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.LoadBenchResult, asJson, BenchText.Write);
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
                    Progress(asJson)).RunAsync(ct), ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.StatsBenchResult, asJson, BenchText.Write);
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
                    Progress(asJson)).RunAsync(ct), ct).ConfigureAwait(false);
            return Print(result, BenchJson.Default.DashboardBenchResult, asJson, BenchText.Write);
        });
        return command;
    }
}
