using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Core.Tests.Workflows;

public sealed class WorkflowGraphTests
{
    private static IReadOnlyDictionary<string, IReadOnlyList<string>> Deps(params (string Step, string[] On)[] steps) =>
        steps.ToDictionary(s => s.Step, s => (IReadOnlyList<string>)s.On);

    [Fact]
    public void Layers_Diamond_ByDeepestDependency()
    {
        var deps = Deps(("merge", ["a", "deep"]), ("a", ["root"]), ("deep", ["a"]), ("root", []));

        var layers = WorkflowGraph.Layers(["merge", "a", "deep", "root"], deps);

        Assert.Equal(0, layers["root"]);
        Assert.Equal(1, layers["a"]);
        Assert.Equal(2, layers["deep"]);
        Assert.Equal(3, layers["merge"]);
    }

    [Fact]
    public void FindCycle_AcyclicLongChain_NoneAndNoStackOverflow()
    {
        var names = Enumerable.Range(0, 50_000).Select(i => $"s{i}").ToArray();
        var deps = names.Select((n, i) => (n, i == 0 ? Array.Empty<string>() : [names[i - 1]])).ToDictionary(x => x.n, x => (IReadOnlyList<string>)x.Item2);

        Assert.Null(WorkflowGraph.FindCycle(names, deps));
        Assert.Equal(49_999, WorkflowGraph.Layers(names, deps)[names[^1]]);
    }

    [Theory]
    [InlineData(new[] { JobState.Succeeded, JobState.Succeeded }, WorkflowState.Succeeded)]
    [InlineData(new[] { JobState.Succeeded, JobState.Waiting }, WorkflowState.Running)]
    [InlineData(new[] { JobState.Dead, JobState.Running }, WorkflowState.Running)]
    [InlineData(new[] { JobState.Dead, JobState.Cancelled }, WorkflowState.Failed)]
    [InlineData(new[] { JobState.Succeeded, JobState.Cancelled }, WorkflowState.Cancelled)]
    public void Derive_FromStepStates(JobState[] steps, WorkflowState expected) =>
        Assert.Equal(expected, WorkflowStates.Derive(steps));
}
