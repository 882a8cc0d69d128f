namespace Gantry.Workflows;

/// <summary>Puts a stored workflow's steps and edges (by row key) together; shared by the stores.</summary>
public static class WorkflowSteps
{
    /// <summary>The steps, in order, each with the names of the steps it depends on.</summary>
    public static IReadOnlyList<WorkflowStepRecord> WithEdges(IReadOnlyList<(long Seq, WorkflowStepRecord Step)> steps, IEnumerable<(long Job, long DependsOn)> edges)
    {
        var names = steps.ToDictionary(s => s.Seq, s => s.Step.Name);
        var deps = edges.OrderBy(e => e.DependsOn).GroupBy(e => e.Job).ToDictionary(g => g.Key, g => g.Select(e => names[e.DependsOn]).ToArray());
        return steps.Select(s => s.Step with { DependsOn = deps.TryGetValue(s.Seq, out var d) ? d : [] }).ToArray();
    }
}
