using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Links;
using Gantry.Worker.Links.Ipc;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// Reports and claims larger than one message of a link (a node's IPC frame, a server's request body) go in parts, in
/// order; one report larger than a whole message ends its attempt (an outcome) or is dropped (anything else), so that no
/// job is left running behind a report refused again and again.
/// </summary>
public sealed class MessagePartsTests
{
    private static readonly Guid Job = Guid.NewGuid();

    private static JobSucceededReport Success(int resultBytes) => new(Guid.NewGuid(), 1, "w", new string('r', resultBytes));

    // The size of a report here: its result's length (bound and exact alike), so parts are easy to count.
    private static long Size(JobReport r) => r is JobSucceededReport s ? s.Result?.Length ?? 0 : 10;

    private static async Task<(IReadOnlyList<bool> Applied, List<IReadOnlyList<JobReport>> Sent)> ReportAsync(IReadOnlyList<JobReport> reports, long budget)
    {
        var sent = new List<IReadOnlyList<JobReport>>();
        var applied = await MessageParts.ReportAsync(reports, budget, Size, Size, "the test's link", (part, _) =>
        {
            sent.Add(part);
            return Task.FromResult<IReadOnlyList<bool>>(part.Select(r => r is not JobFailedReport).ToArray());
        }, CancellationToken.None);
        return (applied, sent);
    }

    [Fact]
    public async Task ReportsThatFit_OneMessage()
    {
        var reports = new[] { Success(30), Success(30), Success(40) };
        var (applied, sent) = await ReportAsync(reports, 100);
        Assert.Same(reports, Assert.Single(sent));
        Assert.Equal([true, true, true], applied);
    }

    [Fact]
    public async Task ReportsLargerThanAMessage_SentInParts_InOrder_EachAnswered()
    {
        var reports = new[] { Success(60), Success(30), Success(20), Success(90), Success(5) };
        var (applied, sent) = await ReportAsync(reports, 100);
        Assert.Equal([2, 1, 2], sent.Select(p => p.Count));
        Assert.Equal(reports.Select(r => r.JobId), sent.SelectMany(p => p).Select(r => r.JobId));
        Assert.Equal(Enumerable.Repeat(true, 5), applied);
    }

    [Fact]
    public async Task AnOutcomeLargerThanAMessage_EndsTheAttemptDead_SayingWhy_OthersGoOn()
    {
        var huge = Success(500);
        var checkpoint = new JobCheckpointReport(Job, 1, "w", new byte[1]);
        var reports = new JobReport[] { Success(10), huge, checkpoint, Success(10) };
        var (applied, sent) = await ReportAsync(reports, 100);

        var failed = Assert.IsType<JobFailedReport>(Assert.Single(sent, p => p.Any(r => r.JobId == huge.JobId)).Single());
        Assert.Equal((huge.Attempt, huge.WorkerId, JobState.Dead, (DateTimeOffset?)null), (failed.Attempt, failed.WorkerId, failed.Next, failed.RunAt));
        Assert.Equal(JobErrorKinds.Exception, failed.Error.Kind);
        Assert.Equal("the attempt's result is about 500 bytes, more than the test's link (100 bytes)", failed.Error.Message);
        Assert.Equal(4, applied.Count);
        Assert.Contains(sent.SelectMany(p => p), r => r.JobId == Job);
    }

    [Fact]
    public async Task AProgressReportLargerThanAMessage_Dropped_TheAttemptGoesOn()
    {
        var progress = new JobProgressReport(Job, 1, "w", 50, new string('m', 1000));
        var sent = new List<JobReport>();
        var applied = await MessageParts.ReportAsync([Success(10), progress], 100, r => r is JobProgressReport ? 1000 : 10, r => r is JobProgressReport ? 1000 : 10,
            "the test's link", (part, _) =>
            {
                sent.AddRange(part);
                return Task.FromResult<IReadOnlyList<bool>>(part.Select(_ => true).ToArray());
            }, CancellationToken.None);
        Assert.Equal([true, true], applied);
        Assert.IsType<JobSucceededReport>(Assert.Single(sent));
    }

    [Fact]
    public void Fitting_SizesExactlyOnlyWhereTheBoundWouldNotFit()
    {
        var exactCalls = 0;
        int Fit(long budget) => MessageParts.Fitting([5, 5, 5], 0, budget, _ => 20, x => { exactCalls++; return x; });
        Assert.Equal(3, Fit(60));
        Assert.Equal(0, exactCalls);
        Assert.Equal(3, Fit(30));  // the bound (20) overflows from the second item on; exactly each is 5
        Assert.Equal(2, exactCalls);
        Assert.Equal(0, MessageParts.Fitting([50], 0, 10, _ => 50, _ => 50));
        Assert.Equal(1, MessageParts.Fitting([50, 5], 1, 10, x => x, x => x));
    }

    [Fact]
    public void AClaimLargerThanAFrame_TheLeadingJobsThatFitOne()
    {
        static ClaimedJob Claimed(int payloadBytes) => new()
        {
            Id = Guid.NewGuid(), Type = "echo", Queue = "default", Payload = new string('p', payloadBytes), Attempt = 1, MaxAttempts = 5,
            Backoff = Backoff.Default, WorkerId = "node", CreatedAt = DateTimeOffset.UnixEpoch, DueAt = DateTimeOffset.UnixEpoch,
        };
        var third = IpcFrames.MaxFrameBytes / 3;
        Assert.Equal(2, IpcFrames.JobsFitting([Claimed(third), Claimed(third), Claimed(third)]));
        Assert.Equal(0, IpcFrames.JobsFitting([Claimed(IpcFrames.MaxFrameBytes), Claimed(1)]));
        Assert.Equal(3, IpcFrames.JobsFitting([Claimed(10), Claimed(10), Claimed(10)]));

        // Whatever JobsFitting lets through, WriteJobs writes within a frame (End throws beyond it): multi-byte text is
        // sized exactly where its bound would not fit.
        var jobs = new[] { Claimed(0) with { Payload = new string('é', IpcFrames.MaxFrameBytes / 3) }, Claimed(0) with { Payload = new string('é', IpcFrames.MaxFrameBytes / 5) } };
        var fit = IpcFrames.JobsFitting(jobs);
        Assert.Equal(1, fit);
        using var writer = new FrameWriter();
        writer.Begin(IpcMessageType.Fetch | IpcMessageType.ResponseBit, 1);
        IpcFrames.WriteJobs(writer, jobs[..fit]);
        writer.End();
    }
}
