using System.Text.Json;
using System.Text.RegularExpressions;
using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary>Long-running jobs with real processes: resume after a crash, drain, queue pause.</summary>
[RunsLong(29)]
public sealed partial class LongJobTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private GantryProcess StartRun(params string[] extra) => QuickRun.Start(_dir, extra);

    private Task<Guid> SubmitAsync(params string[] args) => QuickRun.SubmitAsync(_dir, args);

    private static long ResumedFrom(JobRecord job) => JsonDocument.Parse(job.Result!).RootElement.GetProperty("resumed_from").GetInt64();

    [GeneratedRegex(@"worker\s+(\S+)")]
    private static partial Regex WorkerLine();

    [Fact]
    public async Task Count_WorkerKilledNearHalfway_NextAttemptResumesFromCheckpoint()
    {
        var first = StartRun();
        await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await SubmitAsync("count", """{"to":100,"step_ms":40,"checkpoint_every":5}""");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.Progress >= 45, Generous, "near 50");
        first.Signal(GantryProcess.SigKill);
        await first.WaitForExitAsync(Generous);
        await first.DisposeAsync();

        await using var second = StartRun();
        var done = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State.IsTerminal(), Generous, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, done.Attempt);
        Assert.True(ResumedFrom(done) >= 40, $"resumed from {ResumedFrom(done)}, not from the checkpoint near 50");
        Assert.Contains("\"counted_to\":100", done.Result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drain_LongJobShortTimeout_RequeuedWithCheckpointFinishesElsewhereSameAttempt()
    {
        var first = StartRun("--drain-timeout", "500ms");
        await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var workerId = WorkerLine().Match(first.Stdout).Groups[1].Value;
        var id = await SubmitAsync("count", """{"to":120,"step_ms":50,"checkpoint_every":1000}""");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.Progress >= 10, Generous, "under way");

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "workers", "drain", workerId, "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        Assert.Contains("will drain", stdout, StringComparison.Ordinal);
        Assert.Equal(0, await first.WaitForExitAsync(Generous)); // the drained process exits by itself
        await first.DisposeAsync();

        var requeued = await StoreProbe.GetAsync(_dir.Db, id);
        Assert.Equal(JobState.Queued, requeued!.State);
        Assert.Equal(0, requeued.Attempt);
        Assert.NotNull(requeued.CheckpointSize);

        await using var second = StartRun();
        var done = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State.IsTerminal(), Generous, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(1, done.Attempt);
        Assert.True(ResumedFrom(done) > 0, done.Result);
        Assert.NotEqual(workerId, done.WorkerId);
    }

    [Fact]
    public async Task CtrlCTwice_DuringCheckpointingJob_StopsAtOnce_NextStartResumesFromTheCheckpoint()
    {
        // Default drain timeout (30 s), a job of 20 s: after one Ctrl-C the process would wait for it to finish.
        var first = StartRun();
        await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var id = await SubmitAsync("count", """{"to":400,"step_ms":50,"checkpoint_every":10}""");
        await StoreProbe.WaitForAsync(_dir.Db, id, j => j.Progress >= 10 && j.CheckpointSize is not null, Generous, "checkpointed");

        first.Signal(GantryProcess.SigInt);
        await first.WaitForOutputAsync("Press Ctrl-C again to stop now", Generous);
        await Task.Delay(300);
        Assert.False(first.HasExited, "one Ctrl-C drains: the job goes on");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        first.Signal(GantryProcess.SigInt);
        Assert.Equal(0, await first.WaitForExitAsync(Generous));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the second Ctrl-C took {watch.Elapsed} to stop the process");
        await first.DisposeAsync();

        var requeued = await StoreProbe.GetAsync(_dir.Db, id);
        Assert.Equal(JobState.Queued, requeued!.State);
        Assert.Equal(0, requeued.Attempt); // The interrupted attempt does not count.
        Assert.NotNull(requeued.CheckpointSize);

        await using var second = StartRun();
        var resumed = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State == JobState.Running && j.Progress > 0, Generous, "resumed");
        Assert.True(resumed.Progress >= 10, $"attempt {resumed.Attempt} started over at {resumed.Progress} instead of resuming from the checkpoint");
        Assert.Equal(1, resumed.Attempt);
    }

    [Fact]
    public async Task QueuePause_SubmittedJobsStayQueuedUntilResume()
    {
        await using var run = StartRun();
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "queues", "pause", "default", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        var id = await SubmitAsync("echo", """{"held":true}""");
        await Task.Delay(1500);
        Assert.Equal(JobState.Queued, (await StoreProbe.GetAsync(_dir.Db, id))!.State);
        (code, var stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "queues", "--db", _dir.Db);
        Assert.Contains("default (paused)", stdout, StringComparison.Ordinal);

        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "queues", "resume", "default", "--db", _dir.Db);
        Assert.True(code == 0, stderr);
        var done = await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State.IsTerminal(), Generous, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
    }

    [Fact]
    public async Task WorkersDrain_UnknownWorker_ClearError()
    {
        await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "--db", _dir.Db);
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "workers", "drain", "no-such-worker", "--db", _dir.Db);
        Assert.Equal(1, code);
        Assert.Contains("no running worker with id no-such-worker", stderr, StringComparison.Ordinal);
    }
}
