using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Tests;

/// <summary>`gantry run` as a real process: crash, signal, two processes on one file.</summary>
[RunsLong(25)]
public sealed class RunProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private GantryProcess StartRun(params string[] extra) => QuickRun.Start(_dir, extra);

    private Task<Guid> SubmitAsync(params string[] args) => QuickRun.SubmitAsync(_dir, args);

    [Fact]
    public async Task Run_Starts_PrintsStoreQueuesAndTypesThenStopsOnSigterm()
    {
        await using var run = StartRun("--queues", "default:4,mail:2");
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains($"sqlite:{_dir.Db}", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("default (concurrency 4), mail (concurrency 2)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("count, echo, fail, noop, sleep", run.Stdout, StringComparison.Ordinal);
        run.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await run.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task Run_WorkerSigkilledMidJob_JobRescuedAfterLeaseAndRunsAgain()
    {
        var first = StartRun();
        await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await SubmitAsync("sleep", "{\"ms\":4000}");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State == JobState.Running, Generous, "running");

        first.Signal(GantryProcess.SigKill);
        await first.WaitForExitAsync(Generous);
        await first.DisposeAsync();
        var orphaned = await StoreProbe.GetAsync(_dir.Db, id);
        Assert.Equal(JobState.Running, orphaned!.State);
        Assert.Equal(1, orphaned.Attempt);

        await using var second = StartRun();
        var done = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State.IsTerminal(), Generous, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, done.Attempt);
        var lost = Assert.Single(done.Errors);
        Assert.Equal(1, lost.Attempt);
        Assert.Equal(JobErrorKinds.WorkerLost, lost.Error.Kind);
    }

    [Fact]
    public async Task Run_TwoProcessesOnOneFile_EveryJobClaimedOnce()
    {
        await using var a = StartRun("--queues", "default:8");
        await using var b = StartRun("--queues", "default:8");
        await a.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await b.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        const int count = 400;
        File.WriteAllLines(_dir.File("jobs.jsonl"), Enumerable.Range(0, count).Select(i => $"{{\"type\":\"sleep\",\"payload\":{{\"ms\":10}},\"tags\":{{\"n\":\"{i}\"}}}}"));
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "--file", _dir.File("jobs.jsonl"), "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        var ids = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Guid.Parse).ToArray();
        Assert.Equal(count, ids.Length);

        var deadline = DateTime.UtcNow + Generous;
        IReadOnlyList<JobRecord> jobs;
        do
        {
            await Task.Delay(200);
            jobs = await StoreProbe.WithStoreAsync(_dir.Db, s => s.JobListAsync(new JobListParams { Limit = 1000 }, CancellationToken.None));
        } while (jobs.Any(j => j.State != JobState.Succeeded) && DateTime.UtcNow < deadline);

        Assert.All(jobs, j => Assert.Equal(JobState.Succeeded, j.State));
        // A job claimed by both processes would have been claimed twice: attempt 2, or a rejected stale report.
        Assert.All(jobs, j => Assert.Equal(1, j.Attempt));
        Assert.Equal(2, jobs.Select(j => j.WorkerId).Distinct().Count());
        Assert.DoesNotContain("stale", a.Output + b.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Sigterm_WaitsForDrainRequeuesUnfinishedWithoutCountingAndExitsZero()
    {
        await using var run = StartRun("--drain-timeout", "1s", "--cancel-grace", "2s");
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var longJob = await SubmitAsync("sleep", "{\"ms\":120000}");
        await StoreProbe.WaitForAsync(_dir.Db, longJob, j => j.State == JobState.Running, Generous, "running");

        run.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await run.WaitForExitAsync(Generous));

        var job = await StoreProbe.GetAsync(_dir.Db, longJob);
        Assert.Equal(JobState.Queued, job!.State);
        Assert.Equal(0, job.Attempt);
        Assert.Empty(job.Errors);
        var workers = await StoreProbe.WithStoreAsync(_dir.Db, s => s.WorkerListAsync(CancellationToken.None));
        Assert.All(workers, w => Assert.Equal(WorkerStates.Stopped, w.State));
    }

    [Fact]
    public async Task SubmitWait_WithRunningGantry_PrintsOutcomeAndResult()
    {
        await using var run = StartRun();
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{\"hello\":\"world\"}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("succeeded on attempt 1: {\"hello\":\"world\"}", stdout, StringComparison.Ordinal);

        (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "fail", "--max-attempts", "1", "--wait", "--db", _dir.Db);
        Assert.Equal(3, code);
        Assert.Contains("dead after 1 attempt(s): exception: failing on purpose", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsCancel_RunningJobInAnotherProcess_EndsCancelledQuickly()
    {
        await using var run = StartRun();
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await SubmitAsync("sleep", "{\"ms\":120000}");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State == JobState.Running, Generous, "running");

        var (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "cancel", id.ToString(), "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Contains("asked to stop", stdout, StringComparison.Ordinal);
        // The token fires within a second; allow generously for a loaded machine.
        var job = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State.IsTerminal(), TimeSpan.FromSeconds(20), "cancelled");
        Assert.Equal(JobState.Cancelled, job.State);

        (code, _, var stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "cancel", id.ToString(), "--db", _dir.Db);
        Assert.Equal(1, code);
        Assert.Contains("a job that is cancelled cannot be cancelled", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsShow_NamesTheConcurrencyKeyAndTheUniquenessWindow()
    {
        var id = await SubmitAsync("echo", "--concurrency-key", "account-17", "--idempotency-key", "refresh:17", "--unique-for", "10m", "--unique-while", "queued,running");
        var (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id.ToString(), "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Contains("  concurrency key account-17", stdout, StringComparison.Ordinal);
        Assert.Contains("  key         refresh:17", stdout, StringComparison.Ordinal);
        Assert.Matches(@"  unique      until \S+ \S+Z \(in (9m|10m)\), while queued or running", stdout);

        (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id.ToString(), "--json", "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Contains("\"concurrency_key\": \"account-17\"", stdout, StringComparison.Ordinal);
        Assert.Contains("\"unique_until\"", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_SameIdempotencyKeyTwice_ReturnsTheSameJob()
    {
        var first = await SubmitAsync("echo", "--idempotency-key", "order-42");
        var (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "--idempotency-key", "order-42", "--json", "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Contains($"\"id\": \"{first}\"", stdout, StringComparison.Ordinal);
        Assert.Contains("\"existing\": true", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsShow_WhileRunning_ShowsProgressThenResult()
    {
        await using var run = StartRun();
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        // Long enough that `jobs show`, a process of its own, is up and reading well before the job ends on a loaded machine.
        var id = await SubmitAsync("sleep", "{\"ms\":8000}");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.Progress > 0, Generous, "progress reported");
        var (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id.ToString(), "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Contains("state       running", stdout, StringComparison.Ordinal);
        Assert.Contains("progress", stdout, StringComparison.Ordinal);
        Assert.Contains("ms", stdout, StringComparison.Ordinal);

        (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "show", id.ToString(), "--follow", "--json", "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Contains("\"state\": \"succeeded\"", stdout, StringComparison.Ordinal);
        Assert.Contains("\"slept_ms\": 8000", stdout, StringComparison.Ordinal);
    }
}
