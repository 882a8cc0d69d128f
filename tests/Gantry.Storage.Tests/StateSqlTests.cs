using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage.Tests;

public sealed class StateSqlTests
{
    [Fact]
    public void From_SingleState_WritesEquality()
    {
        Assert.Equal("state = 'queued'", StateSql.From(JobTransition.Claim));
        Assert.Equal("j.state = 'scheduled'", StateSql.From(JobTransition.Promote, "j.state"));
    }

    [Fact]
    public void From_SeveralStates_WritesInList()
    {
        Assert.Equal("state IN ('dead', 'cancelled')", StateSql.From(JobTransition.Retry));
        Assert.Equal("state IN ('waiting', 'scheduled', 'queued', 'running')", StateSql.From(JobTransition.Cancel));
    }

    [Fact]
    public void IsUnfinished_CountsEveryStateThatIsNotTerminal()
    {
        var sql = StateSql.IsUnfinished("j.state");
        Assert.StartsWith("CASE WHEN j.state IN (", sql);
        foreach (var state in WorkflowStates.Unfinished) Assert.Contains($"'{state.ToText()}'", sql);
        foreach (var state in JobStates.All.Where(s => s.IsTerminal())) Assert.DoesNotContain($"'{state.ToText()}'", sql);
    }
}
