using System.CommandLine;
using Gantry.Cli.Bench;
using Gantry.Cli.Hosting;
using Gantry.Cli.Options;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry bench</c>: throughput and pickup latency on a fresh store.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var jobs = new Option<int>("--jobs") { Description = "Jobs in the backlog to drain (default 20000)", DefaultValueFactory = _ => 20_000, HelpName = "n" };
        var concurrency = new Option<int>("--concurrency") { Description = "Worker slots (default 16)", DefaultValueFactory = _ => 16, HelpName = "n" };
        var samples = new Option<int>("--latency-samples") { Description = "Single jobs submitted to measure pickup latency (default 500)", DefaultValueFactory = _ => 500, HelpName = "n" };
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var json = CliOptions.Json();
        var command = new Command("bench", "Measure throughput (drain a backlog of no-op jobs) and pickup latency (enqueue to handler start) on a fresh store")
        {
            db, storeOption, jobs, concurrency, samples, json, Process(), Workflow(),
        };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(jobs);
            var c = parse.GetValue(concurrency);
            var s = parse.GetValue(samples);
            if (n < 1) throw new InvalidInputException("--jobs", $"must be at least 1, got {n}");
            if (c < 1) throw new InvalidInputException("--concurrency", $"must be at least 1, got {c}");
            if (s < 1) throw new InvalidInputException("--latency-samples", $"must be at least 1, got {s}");

            var asJson = parse.GetValue(json);
            var result = await BenchStore.WithFreshStoreAsync(parse, db, storeOption,
                store => new BenchRunner(store, n, c, s, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct), ct).ConfigureAwait(false);
            Print(result, n, c, s, asJson);
            return Cli.Ok;
        });
        return command;
    }

    private static void Print(BenchResult result, int n, int c, int s, bool asJson)
    {
        if (asJson)
        {
            Cli.WriteJson(result, Cli.Json.BenchResult);
            return;
        }
        Console.Out.WriteLine($"store         {result.Store}");
        Console.Out.WriteLine($"enqueue       {result.EnqueueJobsPerSecond:N0} jobs/s ({n:N0} jobs in batches)");
        Console.Out.WriteLine($"throughput    {result.JobsPerSecond:N0} jobs/s ({n:N0} jobs drained in {result.DrainSeconds:0.000}s with {c} slots)");
        Console.Out.WriteLine($"pickup        p50 {result.LatencyP50Ms:0.000} ms, p99 {result.LatencyP99Ms:0.000} ms, max {result.LatencyMaxMs:0.000} ms ({s} samples, enqueue to handler start)");
    }

    /// <summary><c>gantry bench workflow</c>: the cost of a workflow step against a plain job, side by side.</summary>
    private static Command Workflow()
    {
        var db = new Option<string?>("--db") { Description = "Store file to create for the run (must not exist; default: a temporary file, deleted after)", HelpName = "path" };
        var storeOption = new StoreLocationOptions().Store;
        storeOption.Description = "Run on this store instead (postgres://… or sqlite:path); it must hold no jobs";
        var steps = new Option<int>("--steps") { Description = "Steps of the fan-out/fan-in workflow, and plain jobs to compare with (default 1000)", DefaultValueFactory = _ => 1000, HelpName = "n" };
        var concurrency = new Option<int>("--concurrency") { Description = "Worker slots (default 16)", DefaultValueFactory = _ => 16, HelpName = "n" };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of each, alternating; the median is reported (default 5)", DefaultValueFactory = _ => 5, HelpName = "n" };
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
            if (c < 1) throw new InvalidInputException("--concurrency", $"must be at least 1, got {c}");
            if (r < 1) throw new InvalidInputException("--rounds", $"must be at least 1, got {r}");
            var asJson = parse.GetValue(json);
            var result = await BenchStore.WithFreshStoreAsync(parse, db, storeOption,
                store => new WorkflowBench(store, n, c, r, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct), ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, Cli.Json.WorkflowBenchResult);
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
        var samples = new Option<int>("--samples") { Description = "Attempts to time (default 100)", DefaultValueFactory = _ => 100, HelpName = "n" };
        var json = CliOptions.Json();
        var command = new Command("process", "Measure a process handler's overhead: start of an attempt to its result, for a trivial Python program") { samples, json };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(samples);
            if (n < 1) throw new InvalidInputException("--samples", $"must be at least 1, got {n}");
            var asJson = parse.GetValue(json);
            var result = await new ProcessBench(n, m => { if (!asJson) Console.Error.WriteLine($"bench: {m}"); }).RunAsync(ct).ConfigureAwait(false);
            if (asJson)
            {
                Cli.WriteJson(result, Cli.Json.ProcessBenchResult);
                return Cli.Ok;
            }
            Console.Out.WriteLine($"process handler    p50 {result.ProcessP50Ms:0.00} ms, p99 {result.ProcessP99Ms:0.00} ms (no limits)");
            Console.Out.WriteLine($"with limits        p50 {result.LimitedP50Ms:0.00} ms, p99 {result.LimitedP99Ms:0.00} ms ({result.Isolation})");
            Console.Out.WriteLine($"python3 bare       p50 {result.BareP50Ms:0.00} ms, p99 {result.BareP99Ms:0.00} ms (Process.Start, same input)");
            return Cli.Ok;
        });
        return command;
    }
}
