namespace Gantry.Jobs;

/// <summary>
/// The closed set of states a job can be in. Each state's comment says which part of Gantry
/// moves a job out of it; <see cref="JobStateMachine"/> holds the allowed transitions.
/// </summary>
public enum JobState
{
    /// <summary>Waits for its workflow dependencies; released by the completion of the last one.</summary>
    Waiting,
    /// <summary>Waits for <c>run_at</c> (delayed or retry backoff); the scheduler promotes it to queued.</summary>
    Scheduled,
    /// <summary>Ready to run; a worker claims it.</summary>
    Queued,
    /// <summary>Claimed by a worker under a lease; the worker reports its outcome, or the rescuer takes it back.</summary>
    Running,
    /// <summary>Terminal: the handler returned.</summary>
    Succeeded,
    /// <summary>Terminal: every attempt failed. Only an operator's retry re-opens it.</summary>
    Dead,
    /// <summary>Terminal: cancelled. Only an operator's retry re-opens it.</summary>
    Cancelled,
}

/// <summary>Text forms of <see cref="JobState"/> as stored and shown (lower case).</summary>
public static class JobStates
{
    /// <summary>The text of <see cref="JobState.Waiting"/>.</summary>
    public const string Waiting = "waiting";
    /// <summary>The text of <see cref="JobState.Scheduled"/>.</summary>
    public const string Scheduled = "scheduled";
    /// <summary>The text of <see cref="JobState.Queued"/>.</summary>
    public const string Queued = "queued";
    /// <summary>The text of <see cref="JobState.Running"/>.</summary>
    public const string Running = "running";
    /// <summary>The text of <see cref="JobState.Succeeded"/>.</summary>
    public const string Succeeded = "succeeded";
    /// <summary>The text of <see cref="JobState.Dead"/>.</summary>
    public const string Dead = "dead";
    /// <summary>The text of <see cref="JobState.Cancelled"/>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Every state, in lifecycle order.</summary>
    public static readonly IReadOnlyList<JobState> All = Enum.GetValues<JobState>();

    /// <summary>The lower-case text form of <paramref name="state"/>, as stored and shown.</summary>
    public static string ToText(this JobState state) => state switch
    {
        JobState.Waiting => Waiting,
        JobState.Scheduled => Scheduled,
        JobState.Queued => Queued,
        JobState.Running => Running,
        JobState.Succeeded => Succeeded,
        JobState.Dead => Dead,
        JobState.Cancelled => Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Reads a text form (any case, trimmed); false for anything else.</summary>
    public static bool TryParse(string? text, out JobState state)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case Waiting: state = JobState.Waiting; return true;
            case Scheduled: state = JobState.Scheduled; return true;
            case Queued: state = JobState.Queued; return true;
            case Running: state = JobState.Running; return true;
            case Succeeded: state = JobState.Succeeded; return true;
            case Dead: state = JobState.Dead; return true;
            case Cancelled: state = JobState.Cancelled; return true;
            default: state = default; return false;
        }
    }

    /// <summary>As <see cref="TryParse"/>, for stored text: anything else throws <see cref="FormatException"/>.</summary>
    public static JobState Parse(string text) =>
        TryParse(text, out var s) ? s : throw new FormatException($"unknown job state '{text}'");

    /// <summary>True for succeeded, dead and cancelled: states no worker or scheduler moves a job out of.</summary>
    public static bool IsTerminal(this JobState state) =>
        state is JobState.Succeeded or JobState.Dead or JobState.Cancelled;
}
