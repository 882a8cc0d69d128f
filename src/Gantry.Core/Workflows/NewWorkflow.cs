using Gantry.Jobs;

namespace Gantry.Workflows;

/// <summary>A validated workflow ready to be stored: its steps form a DAG. Build one with <see cref="Protocol.WorkflowDraft"/>.</summary>
public sealed record NewWorkflow
{
    /// <summary>The workflow's id (a version 7 Guid, made by the caller).</summary>
    public required Guid Id { get; init; }
    /// <summary>The workflow's name, for people; not unique.</summary>
    public required string Name { get; init; }
    /// <summary>What a failed step stops. Defaults to <see cref="WorkflowOnFailure.Cancel"/>.</summary>
    public WorkflowOnFailure OnFailure { get; init; }
    /// <summary>The steps in document order; every dependency names an earlier or later step of this list.</summary>
    public required IReadOnlyList<NewWorkflowStep> Steps { get; init; }
}

/// <summary>One step: a job, and the names of the steps that must succeed before it is queued.</summary>
/// <param name="Name">The step's name, unique in its workflow.</param>
/// <param name="Job">The job the step runs.</param>
/// <param name="DependsOn">The steps that must succeed before this one is queued; empty for a root step.</param>
public sealed record NewWorkflowStep(string Name, NewJob Job, IReadOnlyList<string> DependsOn);
