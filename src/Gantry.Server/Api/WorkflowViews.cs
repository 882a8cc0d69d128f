using System.Text.Json;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Server.Api;

/// <summary>The JSON shape of a workflow with its steps, for the API and the CLI's <c>--json</c>.</summary>
public sealed record WorkflowView
{
    /// <summary>The workflow's id.</summary>
    public required string Id { get; init; }
    /// <summary>Its name.</summary>
    public required string Name { get; init; }
    /// <summary>Its state, derived from its steps: <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    public required string State { get; init; }
    /// <summary>What a step that fails for good stops: <c>cancel</c>, the whole workflow; <c>continue</c>, only the steps downstream of it.</summary>
    public required string OnFailure { get; init; }
    /// <summary>When it was submitted.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Its steps, in the order submitted.</summary>
    public required IReadOnlyList<WorkflowStepView> Steps { get; init; }

    /// <summary>The view of <paramref name="w"/>, each step with its layer.</summary>
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

/// <summary>How a client of the API reads workflow views back into the store's records.</summary>
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

    /// <summary>The summary again, as a client of the API reads it.</summary>
    public static WorkflowSummary ToSummary(this WorkflowSummaryView v) => new(Guid.Parse(v.Id), v.Name, WorkflowOnFailures.Parse(v.OnFailure), v.CreatedAt,
        new StepCounts(v.Steps, v.Unfinished, v.Succeeded, v.Dead, v.Cancelled));
}

/// <summary>One step: its job and state, what it depends on, and its layer (0 for steps without dependencies).</summary>
public sealed record WorkflowStepView
{
    /// <summary>The step's name, unique in its workflow.</summary>
    public required string Name { get; init; }
    /// <summary>The id of the step's job.</summary>
    public required string JobId { get; init; }
    /// <summary>Its job type.</summary>
    public required string Type { get; init; }
    /// <summary>Its job's state.</summary>
    public required string State { get; init; }
    /// <summary>The steps it waits for.</summary>
    public required IReadOnlyList<string> DependsOn { get; init; }
    /// <summary>Its depth in the graph: 0 without dependencies, else one more than its deepest dependency.</summary>
    public int Layer { get; init; }
    /// <summary>Attempts its job has made.</summary>
    public int Attempt { get; init; }
    /// <summary>Its job's result once it succeeded.</summary>
    public JsonElement? Result { get; init; }
    /// <summary>When its job's latest attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When its job ended.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A workflow in a list: its state and step counts.</summary>
/// <param name="Id">The workflow's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="State">Its derived state (<c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>cancelled</c>).</param>
/// <param name="OnFailure">What a step that fails for good stops (<c>cancel</c> or <c>continue</c>).</param>
/// <param name="CreatedAt">When it was submitted.</param>
/// <param name="Steps">Its steps in all.</param>
/// <param name="Unfinished">Steps not yet ended.</param>
/// <param name="Succeeded">Steps that succeeded.</param>
/// <param name="Dead">Steps that failed for good.</param>
/// <param name="Cancelled">Steps cancelled.</param>
public sealed record WorkflowSummaryView(string Id, string Name, string State, string OnFailure, DateTimeOffset CreatedAt,
    int Steps, int Unfinished, int Succeeded, int Dead, int Cancelled)
{
    /// <summary>The view of <paramref name="w"/>.</summary>
    public static WorkflowSummaryView From(WorkflowSummary w) => new(w.Id.ToString(), w.Name, w.State.ToText(), w.OnFailure.ToText(), w.CreatedAt,
        w.Steps.Total, w.Steps.Unfinished, w.Steps.Succeeded, w.Steps.Dead, w.Steps.Cancelled);
}

/// <summary>A page of workflows, newest first, as <c>GET /api/v1/workflows</c> answers.</summary>
/// <param name="Workflows">The workflows.</param>
/// <param name="NextCursor">The cursor for the next page; null on the last one.</param>
public sealed record WorkflowPage(IReadOnlyList<WorkflowSummaryView> Workflows, string? NextCursor);

/// <summary>What a submission created: the workflow's id and, per step, its job's id and first state.</summary>
/// <param name="Id">The workflow's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Steps">Each step with its job.</param>
public sealed record WorkflowSubmitView(string Id, string Name, IReadOnlyList<WorkflowSubmitStepView> Steps)
{
    internal static WorkflowSubmitView From(NewWorkflow w, WorkflowCreateResult r) =>
        new(r.Id.ToString(), w.Name, r.Steps.Select(s => new WorkflowSubmitStepView(s.Step, s.JobId.ToString(), s.State.ToText())).ToArray());
}

/// <summary>One step a submission created.</summary>
/// <param name="Step">The step's name.</param>
/// <param name="JobId">Its job's id.</param>
/// <param name="State">Its job's first state (<c>queued</c> or <c>waiting</c>).</param>
public sealed record WorkflowSubmitStepView(string Step, string JobId, string State);

/// <summary>What cancelling a workflow did, as <c>POST /api/v1/workflows/{id}/cancel</c> answers.</summary>
/// <param name="Id">The workflow's id.</param>
/// <param name="Cancelled">Steps cancelled at once (not running).</param>
/// <param name="Requested">Running steps whose workers were asked to stop.</param>
public sealed record WorkflowCancelView(string Id, int Cancelled, int Requested);
