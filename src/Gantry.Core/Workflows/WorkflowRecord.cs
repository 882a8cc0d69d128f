using Gantry.Jobs;

namespace Gantry.Workflows;

/// <summary>A workflow as stored, with its steps: what <c>workflows show</c> draws.</summary>
public sealed record WorkflowRecord
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public WorkflowOnFailure OnFailure { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The steps in document order.</summary>
    public required IReadOnlyList<WorkflowStepRecord> Steps { get; init; }

    public WorkflowState State => WorkflowStates.Derive(Steps.Select(s => s.State));
}

/// <summary>One step of a stored workflow: its job's state and result, and its dependencies by name.</summary>
public sealed record WorkflowStepRecord
{
    public required string Name { get; init; }
    public required Guid JobId { get; init; }
    public required string Type { get; init; }
    public required JobState State { get; init; }
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    public int Attempt { get; init; }
    /// <summary>The handler's result as JSON text, once succeeded.</summary>
    public string? Result { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A workflow in a list: its step counts instead of its steps.</summary>
public sealed record WorkflowSummary(Guid Id, string Name, WorkflowOnFailure OnFailure, DateTimeOffset CreatedAt, StepCounts Steps)
{
    public WorkflowState State => WorkflowStates.Derive(Steps);
}

/// <summary>No workflow has the given id.</summary>
public sealed class WorkflowNotFoundException(string id) : GantryException($"no workflow with id {id}")
{
    public string WorkflowId { get; } = id;
}
