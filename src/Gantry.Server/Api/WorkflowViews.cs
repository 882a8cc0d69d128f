using System.Text.Json;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Server.Api;

/// <summary>The JSON shape of a workflow with its steps, for the API and the CLI's <c>--json</c>.</summary>
public sealed record WorkflowView
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string State { get; init; }
    public required string OnFailure { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required IReadOnlyList<WorkflowStepView> Steps { get; init; }

    public static WorkflowView From(WorkflowRecord w)
    {
        var layers = WorkflowGraph.Layers(w.Steps.Select(s => s.Name).ToArray(), w.Steps.ToDictionary(s => s.Name, s => s.DependsOn));
        return new()
        {
            Id = w.Id.ToString(),
            Name = w.Name,
            State = w.State.ToText(),
            OnFailure = w.OnFailure.ToText(),
            CreatedAt = w.CreatedAt,
            Steps = w.Steps.Select(s => new WorkflowStepView
            {
                Name = s.Name, JobId = s.JobId.ToString(), Type = s.Type, State = s.State.ToText(), DependsOn = s.DependsOn,
                Layer = layers[s.Name], Attempt = s.Attempt, Result = s.Result is null ? null : JsonElements.Parse(s.Result), StartedAt = s.StartedAt, FinishedAt = s.FinishedAt,
            }).ToArray(),
        };
    }
}

public static class WorkflowViewRecords
{
    /// <summary>The record again, as a client of the API reads it.</summary>
    public static WorkflowRecord ToRecord(this WorkflowView v) => new()
    {
        Id = Guid.Parse(v.Id),
        Name = v.Name,
        OnFailure = WorkflowOnFailures.Parse(v.OnFailure),
        CreatedAt = v.CreatedAt,
        Steps = v.Steps.Select(s => new WorkflowStepRecord
        {
            Name = s.Name, JobId = Guid.Parse(s.JobId), Type = s.Type, State = JobStates.Parse(s.State), DependsOn = s.DependsOn,
            Attempt = s.Attempt, Result = s.Result?.GetRawText(), StartedAt = s.StartedAt, FinishedAt = s.FinishedAt,
        }).ToArray(),
    };

    public static WorkflowSummary ToSummary(this WorkflowSummaryView v) => new(Guid.Parse(v.Id), v.Name, WorkflowOnFailures.Parse(v.OnFailure), v.CreatedAt,
        new StepCounts(v.Steps, v.Unfinished, v.Succeeded, v.Dead, v.Cancelled));
}

/// <summary>One step: its job and state, what it depends on, and its layer (0 for steps without dependencies).</summary>
public sealed record WorkflowStepView
{
    public required string Name { get; init; }
    public required string JobId { get; init; }
    public required string Type { get; init; }
    public required string State { get; init; }
    public required IReadOnlyList<string> DependsOn { get; init; }
    public int Layer { get; init; }
    public int Attempt { get; init; }
    public JsonElement? Result { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A workflow in a list: its state and step counts.</summary>
public sealed record WorkflowSummaryView(string Id, string Name, string State, string OnFailure, DateTimeOffset CreatedAt,
    int Steps, int Unfinished, int Succeeded, int Dead, int Cancelled)
{
    public static WorkflowSummaryView From(WorkflowSummary w) => new(w.Id.ToString(), w.Name, w.State.ToText(), w.OnFailure.ToText(), w.CreatedAt,
        w.Steps.Total, w.Steps.Unfinished, w.Steps.Succeeded, w.Steps.Dead, w.Steps.Cancelled);
}

public sealed record WorkflowPage(IReadOnlyList<WorkflowSummaryView> Workflows, string? NextCursor);

/// <summary>What a submission created: the workflow's id and, per step, its job's id and first state.</summary>
public sealed record WorkflowSubmitView(string Id, string Name, IReadOnlyList<WorkflowSubmitStepView> Steps)
{
    public static WorkflowSubmitView From(NewWorkflow w, WorkflowCreateResult r) =>
        new(r.Id.ToString(), w.Name, r.Steps.Select(s => new WorkflowSubmitStepView(s.Step, s.JobId.ToString(), s.State.ToText())).ToArray());
}

public sealed record WorkflowSubmitStepView(string Step, string JobId, string State);

public sealed record WorkflowCancelView(string Id, int Cancelled, int Requested);
