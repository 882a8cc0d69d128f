using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage;

public sealed record WorkflowCreateParams(NewWorkflow Workflow);

/// <summary>The stored workflow's id and, per step in document order, its job's id and first state.</summary>
public sealed record WorkflowCreateResult(Guid Id, IReadOnlyList<WorkflowStepJob> Steps);

public sealed record WorkflowStepJob(string Step, Guid JobId, JobState State);

public sealed record WorkflowListParams
{
    public WorkflowState? State { get; init; }
    public int Limit { get; init; } = 50;
    /// <summary>Keyset cursor: only workflows older than this one.</summary>
    public Guid? Before { get; init; }
}

/// <param name="Cancelled">Steps that were not running and are cancelled now.</param>
/// <param name="Requested">Running steps whose workers were asked to stop them.</param>
public sealed record WorkflowCancelResult(Guid Id, int Cancelled, int Requested);
