using Gantry.Jobs;

namespace Gantry.Workflows;

/// <summary>A validated workflow ready to be stored: its steps form a DAG. Build one with <see cref="Protocol.WorkflowDraft"/>.</summary>
public sealed record NewWorkflow
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public WorkflowOnFailure OnFailure { get; init; }
    /// <summary>The steps in document order; every dependency names an earlier or later step of this list.</summary>
    public required IReadOnlyList<NewWorkflowStep> Steps { get; init; }
}

/// <summary>One step: a job, and the names of the steps that must succeed before it is queued.</summary>
public sealed record NewWorkflowStep(string Name, NewJob Job, IReadOnlyList<string> DependsOn);
