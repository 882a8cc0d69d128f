using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage;

/// <summary>A workflow to store: its root steps ready to run, the others waiting for their dependencies.</summary>
/// <param name="Workflow">The validated workflow.</param>
public sealed record WorkflowCreateParams(NewWorkflow Workflow);

/// <summary>The stored workflow's id and, per step in document order, its job's id and first state.</summary>
public sealed record WorkflowCreateResult(Guid Id, IReadOnlyList<WorkflowStepJob> Steps);

/// <summary>One step of a stored workflow and its job.</summary>
/// <param name="Step">The step's name.</param>
/// <param name="JobId">The id of the step's job.</param>
/// <param name="State">The job's first state: waiting for a step with dependencies; queued, or scheduled when it runs later, for a root step.</param>
public sealed record WorkflowStepJob(string Step, Guid JobId, JobState State);

/// <summary>Which workflows <see cref="IStoreWorkflows.WorkflowListAsync"/> returns, newest first.</summary>
public sealed record WorkflowListParams
{
    /// <summary>Only workflows in this derived state; every state when null.</summary>
    public WorkflowState? State { get; init; }
    /// <summary>Most workflows returned. Defaults to 50.</summary>
    public int Limit { get; init; } = 50;
    /// <summary>Keyset cursor: only workflows older than this one.</summary>
    public Guid? Before { get; init; }
}

/// <param name="Cancelled">Steps that were not running and are cancelled now.</param>
/// <param name="Requested">Running steps whose workers were asked to stop them.</param>
public sealed record WorkflowCancelResult(Guid Id, int Cancelled, int Requested);
