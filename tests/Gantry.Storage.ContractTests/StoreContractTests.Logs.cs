using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private static JobLogReport Lines(ClaimedJob job, params (int N, string Message)[] lines) =>
        new(job.Id, job.Attempt, job.WorkerId, lines.Select(l => new JobLogLine(l.N, DateTimeOffset.UnixEpoch.AddSeconds(l.N), "information", l.Message)).ToArray());

    [Fact]
    public async Task JobLogs_LinesOfRunningAttempt_StoredInOrderPerAttempt()
    {
        var first = await RunningAsync(Job() with { MaxAttempts = 3 });
        Assert.True(await ReportAsync(Lines(first, (1, "starting"), (2, "working"))));
        Assert.True(await ReportAsync(Lines(first, (3, "failing"))));
        Assert.True(await FailAsync(first, JobState.Queued));
        var second = await ClaimOneAsync();
        Assert.True(await ReportAsync(Lines(second, (1, "again"))));

        var logs = await Store.JobLogsAsync(first.Id, Ct);

        Assert.Equal([(1, 1, "starting"), (1, 2, "working"), (1, 3, "failing"), (2, 1, "again")],
            logs.Select(l => (l.Attempt, l.Line.Number, l.Line.Message)));
        Assert.Equal("information", logs[0].Line.Level);
    }

    [Fact]
    public async Task JobLogs_StaleAttempt_Rejected()
    {
        var claimed = await RunningAsync();
        Assert.False(await ReportAsync(new JobLogReport(claimed.Id, claimed.Attempt, "someone-else", [new JobLogLine(1, DateTimeOffset.UnixEpoch, "information", "x")])));
        Assert.True(await SucceedAsync(claimed));
        Assert.False(await ReportAsync(Lines(claimed, (1, "too late"))));
        Assert.Empty(await Store.JobLogsAsync(claimed.Id, Ct));
    }

    [Fact]
    public async Task JobLogs_RequeuedAttempt_LinesGoWithIt()
    {
        var claimed = await RunningAsync();
        Assert.True(await ReportAsync(Lines(claimed, (1, "interrupted"))));
        Assert.True(await ReportAsync(new JobRequeuedReport(claimed.Id, claimed.Attempt, claimed.WorkerId)));
        Assert.Empty(await Store.JobLogsAsync(claimed.Id, Ct));
    }

    [Fact]
    public async Task JobLogs_UnknownJob_NotFound()
    {
        await Assert.ThrowsAsync<JobNotFoundException>(() => Store.JobLogsAsync(Guid.CreateVersion7(), Ct));
    }
}
