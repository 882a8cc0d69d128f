using System.Diagnostics;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Gantry.Workflows;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Bench;

/// <summary>
/// A workflow step's cost against a plain job's, measured side by side on one store by one worker:
/// rounds alternate between N plain no-op jobs (enqueued in batches) and a fan-out/fan-in workflow of
/// N no-op steps (one root, N − 2 branches, one merge of them all). Each round is timed from the
/// submission to the last success committed; the per-job cost is that time over N.
/// </summary>
public sealed class WorkflowBench(IJobStore store, int steps, int concurrency, int rounds, Action<string> progress)
{
    private const int EnqueueBatch = 1000;

    public async Task<WorkflowBenchResult> RunAsync(CancellationToken ct)
    {
        var services = new ServiceCollection().AddSingleton(new BenchRunner.BenchProbe())
            .AddGantryHandler<BenchRunner.BenchHandler, System.Text.Json.JsonElement>(BenchRunner.JobType, BenchPayloadJson.Default.JsonElement).BuildServiceProvider();
        await using var _ = services.ConfigureAwait(false);
        var link = new CountingLink(new StoreWorkerLink(store), 0);
        var options = new WorkerOptions { Queues = new Dictionary<string, int> { ["default"] = concurrency }, WorkerId = $"bench-{Environment.ProcessId}" };
        var worker = new GantryWorker(link, options, services);
        await worker.StartAsync(ct).ConfigureAwait(false);
        try
        {
            progress("warming up");
            await TimeAsync(link, Math.Min(steps, 200), PlainAsync, ct).ConfigureAwait(false);
            await TimeAsync(link, Math.Min(steps, 200), WorkflowAsync, ct).ConfigureAwait(false);

            var plain = new List<double>();
            var workflow = new List<double>();
            for (var r = 1; r <= rounds; r++)
            {
                progress($"round {r} of {rounds}: {steps:N0} plain jobs, then a workflow of {steps:N0} steps");
                plain.Add(await TimeAsync(link, steps, PlainAsync, ct).ConfigureAwait(false) / steps);
                workflow.Add(await TimeAsync(link, steps, WorkflowAsync, ct).ConfigureAwait(false) / steps);
            }
            var plainUs = Median(plain) * 1e6;
            var workflowUs = Median(workflow) * 1e6;
            return new WorkflowBenchResult
            {
                Store = store.Description,
                Steps = steps,
                Concurrency = concurrency,
                Rounds = rounds,
                PlainMicrosecondsPerJob = Math.Round(plainUs, 1),
                WorkflowMicrosecondsPerStep = Math.Round(workflowUs, 1),
                Ratio = Math.Round(workflowUs / plainUs, 2),
                Machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion.VersionString}, .NET {Environment.Version}",
            };
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Seconds from the submission to the last of <paramref name="count"/> successes committed.</summary>
    private static async Task<double> TimeAsync(CountingLink link, int count, Func<int, CancellationToken, Task> submit, CancellationToken ct)
    {
        link.Expect(count);
        var start = Stopwatch.GetTimestamp();
        await submit(count, ct).ConfigureAwait(false);
        await link.AllSucceeded.WaitAsync(TimeSpan.FromMinutes(5), ct).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start, link.LastSuccessAt).TotalSeconds;
    }

    private async Task PlainAsync(int count, CancellationToken ct)
    {
        for (var done = 0; done < count; done += EnqueueBatch)
        {
            var batch = Enumerable.Range(0, Math.Min(EnqueueBatch, count - done)).Select(_ => NoOp()).ToArray();
            await store.JobEnqueueManyAsync(new JobEnqueueParams(batch), ct).ConfigureAwait(false);
        }
    }

    private async Task WorkflowAsync(int count, CancellationToken ct)
    {
        var branches = Enumerable.Range(0, count - 2).Select(i => $"b{i}").ToArray();
        var flow = new NewWorkflow
        {
            Id = JobIds.New(),
            Name = "bench",
            Steps =
            [
                new NewWorkflowStep("root", NoOp(), []),
                .. branches.Select(b => new NewWorkflowStep(b, NoOp(), ["root"])),
                new NewWorkflowStep("merge", NoOp(), branches),
            ],
        };
        await store.WorkflowCreateAsync(new WorkflowCreateParams(flow), ct).ConfigureAwait(false);
    }

    private static NewJob NoOp() => new() { Id = JobIds.New(), Type = BenchRunner.JobType };

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}

/// <summary>What <c>gantry bench workflow --json</c> prints.</summary>
public sealed record WorkflowBenchResult
{
    public required string Store { get; init; }
    public required int Steps { get; init; }
    public required int Concurrency { get; init; }
    public required int Rounds { get; init; }
    public required double PlainMicrosecondsPerJob { get; init; }
    public required double WorkflowMicrosecondsPerStep { get; init; }
    /// <summary>Workflow step over plain job.</summary>
    public required double Ratio { get; init; }
    public required string Machine { get; init; }
}
