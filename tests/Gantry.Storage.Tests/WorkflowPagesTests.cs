using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Storage.Tests;

public sealed class WorkflowPagesTests
{
    // 1,200 workflows, newest first; every 100th has failed, the rest run.
    private static readonly WorkflowSummary[] All = Enumerable.Range(0, 1200)
        .Select(i => new WorkflowSummary(Guid.NewGuid(), $"w{i}", WorkflowOnFailure.Cancel, DateTimeOffset.UnixEpoch,
            i % 100 == 99 ? new StepCounts(1, 0, 0, 1, 0) : new StepCounts(1, 1, 0, 0, 0)))
        .ToArray();

    private readonly List<(Guid? Before, int Limit)> _reads = [];

    private Task<IReadOnlyList<WorkflowSummary>> Page(Guid? before, int limit, CancellationToken ct)
    {
        _reads.Add((before, limit));
        var start = before is { } b ? Array.FindIndex(All, w => w.Id == b) + 1 : 0;
        return Task.FromResult<IReadOnlyList<WorkflowSummary>>(All.Skip(start).Take(limit).ToArray());
    }

    [Fact]
    public async Task ListAsync_NoFilter_ReadsOnePageOfTheLimit()
    {
        var list = await WorkflowPages.ListAsync(new WorkflowListParams { Limit = 7 }, Page, CancellationToken.None);

        Assert.Equal(All.Take(7), list);
        Assert.Equal([(null, 7)], _reads);
    }

    [Fact]
    public async Task ListAsync_SparseState_ReadsPagesUntilEnoughMatch()
    {
        var list = await WorkflowPages.ListAsync(new WorkflowListParams { State = WorkflowState.Failed, Limit = 8 }, Page, CancellationToken.None);

        Assert.Equal(All.Where(w => w.State == WorkflowState.Failed).Take(8), list);
        // Matches 1-5 lie in the first 500, 6-8 in the next: two reads, the second after the first page's last.
        Assert.Equal([(null, 500), (All[499].Id, 500)], _reads);
    }

    [Fact]
    public async Task ListAsync_FewerMatchesThanTheLimit_StopsAtTheLastPage()
    {
        var list = await WorkflowPages.ListAsync(new WorkflowListParams { State = WorkflowState.Failed, Limit = 50, Before = All[149].Id }, Page, CancellationToken.None);

        Assert.Equal(All.Skip(150).Where(w => w.State == WorkflowState.Failed), list);
        Assert.Equal(3, _reads.Count);
        Assert.Equal(All[149].Id, _reads[0].Before);
    }
}
