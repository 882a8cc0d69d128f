using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Cli.Tests;

/// <summary>
/// Jobs larger than one message of a worker's link. A node hands its workers a claim in one IPC frame, and an HTTP worker
/// reports in requests a server takes whole: a claim or a batch of reports beyond that goes in parts, and a single job or
/// result beyond it ends dead, saying why. (A node used to hold such a claim forever, renewing its leases, and an HTTP
/// worker to resend such reports forever, the jobs left running.)
/// </summary>
public sealed class LargeJobsProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);
    private readonly TempDir _dir = new();
    private const int MaxFrameBytes = 64 * 1024 * 1024; // MaxFrameBytes

    public void Dispose() => _dir.Dispose();

    /// <summary>An echo job (its result is its payload) whose payload is about <paramref name="bytes"/> bytes.</summary>
    private static NewJob Echo(int bytes) =>
        new() { Id = JobIds.New(), Type = "echo", Payload = $$"""{"blob":"{{new string('x', bytes)}}"}""" };

    private async Task<Dictionary<Guid, JobRecord>> SubmitAndWaitAsync(NewJob[] jobs)
    {
        await StoreProbe.WithStoreAsync(_dir.Db, s => s.JobEnqueueManyAsync(new JobEnqueueParams(jobs), CancellationToken.None));
        var ended = new Dictionary<Guid, JobRecord>();
        foreach (var job in jobs)
            ended[job.Id] = await StoreProbe.WaitForAsync(_dir.Db, job.Id, j => j.State.IsTerminal(), Generous, "ended");
        return ended;
    }

    [Fact]
    public async Task Node_AClaimLargerThanAFrameGoesInParts_AJobLargerThanAFrameEndsDeadSayingWhy()
    {
        await using var node = GantryProcess.Start(_dir.Path, "node", "--db", _dir.Db, "--run-dir", _dir.File("run"), "--workers", "1", "--queues", "default:4");
        await node.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var half = MaxFrameBytes / 2 + 1024;
        NewJob[] jobs = [Echo(half), Echo(half), Echo(MaxFrameBytes + 1024)];

        var ended = await SubmitAndWaitAsync(jobs);

        // Two halves do not fit one frame: one went back to the queue and came in a later fetch; their results (as large)
        // were reported in parts.
        Assert.Equal((JobState.Succeeded, JobState.Succeeded), (ended[jobs[0].Id].State, ended[jobs[1].Id].State));
        Assert.Equal(1, ended[jobs[0].Id].Attempt);
        var dead = ended[jobs[2].Id];
        Assert.Equal(JobState.Dead, dead.State);
        var error = Assert.Single(dead.Errors).Error;
        Assert.Contains("more than a node can hand a worker in one message", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpWorker_ReportsLargerThanARequestGoInParts_AResultLargerThanARequestEndsDeadSayingWhy()
    {
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--server", server.ApiUrl, "--queues", "default:4");
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        NewJob[] jobs = [Echo(4 << 20), Echo(4 << 20), Echo(4 << 20), Echo(11 << 20)];

        var ended = await SubmitAndWaitAsync(jobs);

        Assert.All(jobs[..3], j => Assert.Equal(JobState.Succeeded, ended[j.Id].State));
        var dead = ended[jobs[3].Id];
        Assert.Equal(JobState.Dead, dead.State);
        var error = Assert.Single(dead.Errors).Error;
        Assert.Contains("the attempt's result is about", error.Message, StringComparison.Ordinal);
        Assert.Contains("more than a server takes in one request", error.Message, StringComparison.Ordinal);
    }
}
