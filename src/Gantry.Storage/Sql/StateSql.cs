using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage;

/// <summary>The job model's rules as SQL conditions, written from the rules themselves so that a store's statements
/// cannot drift from them.</summary>
internal static class StateSql
{
    /// <summary>
    /// "The job is in a state <paramref name="transition"/> may start from" (<see cref="JobStateMachine.From"/>), e.g.
    /// <c>state = 'queued'</c> or <c>state IN ('dead','cancelled')</c>. Stores put it in the WHERE of every conditional
    /// update; a single state is written as an equality so partial indexes apply.
    /// </summary>
    public static string From(JobTransition transition, string column = "state") => In(column, JobStateMachine.From(transition));

    /// <summary>
    /// "This attempt may be followed by another": the rule of <see cref="RetryPolicy.AfterFailure"/> and
    /// <see cref="RetryPolicy.AfterLostWorker"/> for a store that applies a worker's failure report. A worker proposes
    /// when to retry (its backoff) or that a failure is not worth retrying; whether attempts are left is the store's to
    /// say, from the row, whatever the report asks for.
    /// </summary>
    public static string AttemptsLeft(string attempt = "attempt", string maxAttempts = "max_attempts") => $"{attempt} < {maxAttempts}";

    /// <summary>The job state column holds a state a workflow step counts as unfinished (<see cref="WorkflowStates.Unfinished"/>).</summary>
    public static string Unfinished(string column = "state") => In(column, WorkflowStates.Unfinished);

    /// <summary>1 when the job state column is unfinished, else 0 (to sum).</summary>
    public static string IsUnfinished(string column = "state") => $"CASE WHEN {Unfinished(column)} THEN 1 ELSE 0 END";

    private static string In(string column, IReadOnlyList<JobState> states) =>
        states.Count == 1
            ? $"{column} = '{states[0].ToText()}'"
            : $"{column} IN ({string.Join(", ", states.Select(s => $"'{s.ToText()}'"))})";
}
