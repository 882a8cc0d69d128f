using Gantry.Jobs;

namespace Gantry.Workflows;

/// <summary>A workflow as stored, with its steps: what <c>workflows show</c> draws.</summary>
public sealed record WorkflowRecord
{
    /// <summary>The workflow's id.</summary>
    public required Guid Id { get; init; }
    /// <summary>The workflow's name, for people.</summary>
    public required string Name { get; init; }
    /// <summary>What a failed step stops.</summary>
    public WorkflowOnFailure OnFailure { get; init; }
    /// <summary>When the workflow was submitted.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The steps in document order.</summary>
    public required IReadOnlyList<WorkflowStepRecord> Steps { get; init; }

    /// <summary>The workflow's state, derived from its steps' (<see cref="WorkflowStates.Derive(IEnumerable{JobState})"/>).</summary>
    public WorkflowState State => WorkflowStates.Derive(Steps.Select(s => s.State));
}

/// <summary>One step of a stored workflow: its job's state and result, and its dependencies by name.</summary>
public sealed record WorkflowStepRecord
{
    /// <summary>The step's name, unique in its workflow.</summary>
    public required string Name { get; init; }
    /// <summary>The id of the step's job.</summary>
    public required Guid JobId { get; init; }
    /// <summary>The step's job type.</summary>
    public required string Type { get; init; }
    /// <summary>The step's job's state.</summary>
    public required JobState State { get; init; }
    /// <summary>The steps that must succeed before this one is queued; empty for a root step.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    /// <summary>The job's latest attempt; 0 before its first.</summary>
    public int Attempt { get; init; }
    /// <summary>The handler's result as JSON text, once succeeded.</summary>
    public string? Result { get; init; }
    /// <summary>When the latest attempt started; null before the first.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job finished; null until it has.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A workflow in a list: its step counts instead of its steps.</summary>
/// <param name="Id">The workflow's id.</param>
/// <param name="Name">The workflow's name, for people.</param>
/// <param name="OnFailure">What a failed step stops.</param>
/// <param name="CreatedAt">When the workflow was submitted.</param>
/// <param name="Steps">How many of its steps are in each kind of state.</param>
public sealed record WorkflowSummary(Guid Id, string Name, WorkflowOnFailure OnFailure, DateTimeOffset CreatedAt, StepCounts Steps)
{
    /// <summary>The workflow's state, derived from its step counts (<see cref="WorkflowStates.Derive(StepCounts)"/>).</summary>
    public WorkflowState State => WorkflowStates.Derive(Steps);
}

/// <summary>No workflow has the given id.</summary>
public sealed class WorkflowNotFoundException(string id) : GantryException($"no workflow with id {id}")
{
    /// <summary>The id asked for, as given.</summary>
    public string WorkflowId { get; } = id;
}
