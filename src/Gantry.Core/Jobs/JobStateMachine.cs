namespace Gantry.Jobs;

/// <summary>
/// The one place that says which transitions are legal. Stores turn
/// <see cref="From(JobTransition)"/> into the <c>WHERE state IN (…)</c> of their conditional
/// updates, so a writer holding a stale view changes nothing; code that decides a transition
/// in memory calls <see cref="Apply"/>, which throws on an illegal one.
/// </summary>
public static class JobStateMachine
{
    private static readonly Dictionary<JobTransition, (JobState[] From, JobState[] To)> Rules = new()
    {
        [JobTransition.Promote] = ([JobState.Scheduled], [JobState.Queued]),
        [JobTransition.Release] = ([JobState.Waiting], [JobState.Queued]),
        [JobTransition.Claim] = ([JobState.Queued], [JobState.Running]),
        [JobTransition.Succeed] = ([JobState.Running], [JobState.Succeeded]),
        [JobTransition.FailAndRetry] = ([JobState.Running], [JobState.Scheduled, JobState.Queued]),
        [JobTransition.FailForGood] = ([JobState.Running], [JobState.Dead]),
        [JobTransition.Requeue] = ([JobState.Running], [JobState.Queued]),
        [JobTransition.Rescue] = ([JobState.Running], [JobState.Queued, JobState.Scheduled, JobState.Dead, JobState.Cancelled]),
        [JobTransition.Cancel] = ([JobState.Waiting, JobState.Scheduled, JobState.Queued, JobState.Running], [JobState.Cancelled]),
        // A workflow step whose dependencies have not all succeeded waits for them again.
        [JobTransition.Retry] = ([JobState.Dead, JobState.Cancelled], [JobState.Queued, JobState.Waiting]),
    };

    /// <summary>The states a transition may start from.</summary>
    public static IReadOnlyList<JobState> From(JobTransition transition) => Rules[transition].From;

    /// <summary>The states a transition may lead to.</summary>
    public static IReadOnlyList<JobState> To(JobTransition transition) => Rules[transition].To;

    /// <summary>True when <paramref name="transition"/> may move a job from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool IsAllowed(JobState from, JobTransition transition, JobState to) =>
        Rules.TryGetValue(transition, out var rule) && rule.From.Contains(from) && rule.To.Contains(to);

    /// <summary>Checks a transition and returns its target state; throws <see cref="IllegalTransitionException"/> otherwise.</summary>
    public static JobState Apply(JobState from, JobTransition transition, JobState to) =>
        IsAllowed(from, transition, to) ? to : throw new IllegalTransitionException(from, transition, to);
}

/// <summary>An attempt to move a job along a transition its state does not allow.</summary>
public sealed class IllegalTransitionException(JobState from, JobTransition transition, JobState? to = null)
    : GantryException(to is null || JobStateMachine.To(transition).Count == 1 || transition == JobTransition.Retry
        ? $"a job that is {from.ToText()} cannot {Describe(transition)}"
        : $"a job that is {from.ToText()} cannot {Describe(transition)} to {to.Value.ToText()}")
{
    /// <summary>The state the job was in.</summary>
    public JobState From { get; } = from;
    /// <summary>The transition that was refused.</summary>
    public JobTransition Transition { get; } = transition;

    private static string Describe(JobTransition t) => t switch
    {
        JobTransition.Cancel => "be cancelled",
        JobTransition.Retry => "be retried (only dead or cancelled jobs can)",
        _ => $"take transition {t}",
    };
}
