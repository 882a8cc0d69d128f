using Gantry.Jobs;

namespace Gantry.Workflows;

/// <summary>
/// A workflow's state is never stored: it is derived from its steps' states by <see cref="WorkflowStates.Derive(StepCounts)"/>.
/// </summary>
public enum WorkflowState
{
    /// <summary>Some step has not finished (waiting, scheduled, queued or running).</summary>
    Running,
    /// <summary>Every step succeeded.</summary>
    Succeeded,
    /// <summary>Every step finished and at least one is dead.</summary>
    Failed,
    /// <summary>Every step finished, none dead, at least one cancelled.</summary>
    Cancelled,
}

/// <summary>The one rule for a workflow's state, and its text forms.</summary>
public static class WorkflowStates
{
    /// <summary>Every workflow state, in declaration order.</summary>
    public static readonly IReadOnlyList<WorkflowState> All = Enum.GetValues<WorkflowState>();

    /// <summary>The states a step counts as unfinished in.</summary>
    public static readonly IReadOnlyList<JobState> Unfinished = JobStates.All.Where(s => !s.IsTerminal()).ToArray();

    /// <summary>A workflow's state from its step counts: running while any step is unfinished; then failed if any is dead, cancelled if any is cancelled, else succeeded.</summary>
    public static WorkflowState Derive(StepCounts counts) =>
        counts.Unfinished > 0 ? WorkflowState.Running
        : counts.Dead > 0 ? WorkflowState.Failed
        : counts.Cancelled > 0 ? WorkflowState.Cancelled
        : WorkflowState.Succeeded;

    /// <summary>As <see cref="Derive(StepCounts)"/>, from the steps' states.</summary>
    public static WorkflowState Derive(IEnumerable<JobState> steps) => Derive(StepCounts.Of(steps));

    /// <summary>The text form: <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    public static string ToText(this WorkflowState state) => state switch
    {
        WorkflowState.Running => "running",
        WorkflowState.Succeeded => "succeeded",
        WorkflowState.Failed => "failed",
        WorkflowState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Reads a text form (any case, trimmed); false for anything else.</summary>
    public static bool TryParse(string? text, out WorkflowState state)
    {
        foreach (var s in All)
        {
            if (string.Equals(s.ToText(), text?.Trim(), StringComparison.OrdinalIgnoreCase)) { state = s; return true; }
        }
        state = default;
        return false;
    }
}

/// <summary>How many of a workflow's steps are in each kind of state.</summary>
/// <param name="Total">Every step.</param>
/// <param name="Unfinished">Steps waiting, scheduled, queued or running.</param>
/// <param name="Succeeded">Steps that succeeded.</param>
/// <param name="Dead">Steps that failed for good.</param>
/// <param name="Cancelled">Steps cancelled.</param>
public sealed record StepCounts(int Total, int Unfinished, int Succeeded, int Dead, int Cancelled)
{
    /// <summary>Counts <paramref name="states"/>, one per step.</summary>
    public static StepCounts Of(IEnumerable<JobState> states)
    {
        int total = 0, unfinished = 0, succeeded = 0, dead = 0, cancelled = 0;
        foreach (var s in states)
        {
            total++;
            switch (s)
            {
                case JobState.Succeeded: succeeded++; break;
                case JobState.Dead: dead++; break;
                case JobState.Cancelled: cancelled++; break;
                default: unfinished++; break;
            }
        }
        return new StepCounts(total, unfinished, succeeded, dead, cancelled);
    }
}
