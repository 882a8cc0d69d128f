using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Storage;

/// <summary>
/// The statements a relational store runs for workflows, written once for every backend. Steps are
/// rows of <c>jobs</c> with <c>workflow_id</c>, <c>step</c> and <c>deps_left</c> (how many of their
/// dependencies have not succeeded yet; null on plain jobs); edges are rows of
/// <c>job_dependencies (job_seq, depends_on_seq)</c>, by the jobs' row keys. Every change is a
/// conditional update on the step's state, so the release of a step and its cancellation, or two
/// releases, cannot both apply: under PostgreSQL's READ COMMITTED the second writer waits for the
/// first's row lock and re-evaluates the row as the first left it.
/// </summary>
internal static class WorkflowSql
{
    /// <summary>The cancellable states a step ends in at once (a running one is asked to stop instead).</summary>
    private static readonly string CancelNow = string.Join(", ",
        JobStateMachine.From(JobTransition.Cancel).Where(s => s != JobState.Running).Select(s => $"'{s.ToText()}'"));

    /// <summary>The release rule: a dependent's count of pending dependencies goes down by <paramref name="by"/>, and at zero it is queued.</summary>
    private static string ReleaseBy(string by) =>
        $"deps_left = deps_left - {by}, state = CASE WHEN deps_left = {by} THEN '{JobState.Queued.ToText()}' ELSE state END";

    /// <summary>
    /// Releases the dependents in <paramref name="dependents"/> (a condition on <c>seq</c>), of each of which
    /// <c>@n</c> dependencies have just succeeded. A store counts a batch's successes per dependent first
    /// (<see cref="DependentsOf"/>), so that a fan-in's dependent is updated once per batch, not once per
    /// success. Returns a row per dependent, <c>1</c>/true when queued.
    /// </summary>
    public static string Release(string dependents) => $"""
        UPDATE jobs SET {ReleaseBy("@n")}
        WHERE {dependents} AND {StateSql.From(JobTransition.Release)}
        RETURNING deps_left = 0
        """;

    /// <summary>The dependents of the succeeded steps in <paramref name="parents"/> (a condition on <c>depends_on_seq</c>), each with how many of them it depends on.</summary>
    public static string DependentsOf(string parents) =>
        $"SELECT job_seq, count(*) FROM job_dependencies WHERE {parents} GROUP BY job_seq ORDER BY job_seq";

    /// <summary>
    /// The state a retried job goes back to: queued, or waiting for a workflow step whose dependencies
    /// have not all succeeded (its count still says how many; it is null on a plain job).
    /// </summary>
    public static readonly string RetryState =
        $"CASE WHEN deps_left > 0 THEN '{JobState.Waiting.ToText()}' ELSE '{JobState.Queued.ToText()}' END";

    /// <summary>
    /// True of a workflow step. Written next to every look-up of a step by <c>seq</c>: a store may index
    /// <c>seq</c> for steps only (PostgreSQL does, sparing plain jobs an index write per row version).
    /// </summary>
    public const string IsStep = "workflow_id IS NOT NULL";

    /// <summary>
    /// Recounts the pending dependencies of step <c>@id</c> (nothing for a plain job) as it is retried: a
    /// dependency that succeeded while the step was cancelled did not release it, so the count it kept
    /// is stale. Run before the retry's update, which reads the count (<see cref="RetryState"/>).
    /// </summary>
    public static readonly string RecountDependencies = $"""
        UPDATE jobs SET deps_left = (
          SELECT count(*) FROM job_dependencies AS d JOIN jobs AS p ON p.seq = d.depends_on_seq AND p.{IsStep}
          WHERE d.job_seq = jobs.seq AND p.state <> '{JobState.Succeeded.ToText()}')
        WHERE id = @id AND {IsStep}
        """;

    /// <summary>The workflow of job <c>@seq</c> and its failure rule; no row for a plain job.</summary>
    public const string WorkflowOf = $"""
        SELECT w.id, w.on_failure FROM jobs AS j JOIN workflows AS w ON w.id = j.workflow_id WHERE j.seq = @seq AND j.{IsStep}
        """;

    /// <summary>Every step downstream of <c>@seq</c>, transitively, as a set of row keys.</summary>
    private const string Downstream = """
        WITH RECURSIVE down(seq) AS (
          SELECT job_seq FROM job_dependencies WHERE depends_on_seq = @seq
          UNION
          SELECT d.job_seq FROM job_dependencies AS d JOIN down ON d.depends_on_seq = down.seq)
        SELECT seq FROM down
        """;

    /// <summary>Which steps a stop applies to: the whole workflow <c>@workflow</c>, or what lies downstream of <c>@seq</c>.</summary>
    public static string Scope(bool downstreamOnly) => downstreamOnly ? $"seq IN ({Downstream}) AND {IsStep}" : "workflow_id = @workflow";

    /// <summary>Ends the steps in scope that are not running as cancelled (<c>@now</c>). Returns their row keys.</summary>
    public static string CancelSteps(bool downstreamOnly) => $"""
        UPDATE jobs SET state = '{JobState.Cancelled.ToText()}', finished_at = @now, cancel_requested_at = coalesce(cancel_requested_at, @now)
        WHERE {Scope(downstreamOnly)} AND state IN ({CancelNow})
        RETURNING seq
        """;

    /// <summary>Asks for the cancellation of the running steps in scope. Returns the id and worker of each, to be sent a command.</summary>
    public static string RequestCancel(bool downstreamOnly) => $"""
        UPDATE jobs SET cancel_requested_at = @now
        WHERE {Scope(downstreamOnly)} AND state = '{JobState.Running.ToText()}' AND cancel_requested_at IS NULL
        RETURNING id, worker_id
        """;

    public const string InsertCancelCommand = "INSERT INTO worker_commands (worker_id, kind, job_id, created_at) VALUES (@worker, 'CancelJob', @id, @now)";

    public const string InsertWorkflow = "INSERT INTO workflows (id, name, on_failure, created_at) VALUES (@id, @name, @on_failure, @now)";

    /// <summary>The results of the dependencies of the claimed steps in <paramref name="steps"/> (a condition on <c>d.job_seq</c>): step row key, dependency name, result.</summary>
    public static string DependencyResults(string steps) =>
        $"SELECT d.job_seq, p.step, p.result FROM job_dependencies AS d JOIN jobs AS p ON p.seq = d.depends_on_seq AND p.{IsStep} WHERE {steps}";

    /// <summary>The steps of workflow <c>@workflow</c> in document order (their row keys grow with it).</summary>
    public const string Steps = """
        SELECT seq, step, id, type, state, attempt, result, started_at, finished_at FROM jobs WHERE workflow_id = @workflow ORDER BY seq
        """;

    /// <summary>The edges of workflow <c>@workflow</c>, as (step, dependency) row keys.</summary>
    public const string Edges = """
        SELECT d.job_seq, d.depends_on_seq FROM job_dependencies AS d JOIN jobs AS j ON j.seq = d.job_seq WHERE j.workflow_id = @workflow
        """;

    public const string Get = "SELECT id, name, on_failure, created_at FROM workflows WHERE id = @id";

    /// <summary>
    /// A page of <c>@limit</c> workflows, newest first, with their step counts; <c>@before</c> (nullable) is
    /// the keyset cursor. The page is chosen before counting, so only its workflows' steps are read; a
    /// filter on the derived state pages through these (<see cref="WorkflowPages"/>).
    /// </summary>
    public static readonly string List = $"""
        SELECT w.id, w.name, w.on_failure, w.created_at, count(j.workflow_id) AS total,
               coalesce(sum({StateSql.IsUnfinished("j.state")}), 0) AS unfinished,
               coalesce(sum(CASE WHEN j.state = '{JobState.Succeeded.ToText()}' THEN 1 ELSE 0 END), 0) AS succeeded,
               coalesce(sum(CASE WHEN j.state = '{JobState.Dead.ToText()}' THEN 1 ELSE 0 END), 0) AS dead,
               coalesce(sum(CASE WHEN j.state = '{JobState.Cancelled.ToText()}' THEN 1 ELSE 0 END), 0) AS cancelled
        FROM (SELECT * FROM workflows WHERE (@before IS NULL OR seq < coalesce((SELECT seq FROM workflows WHERE id = @before), 0))
              ORDER BY seq DESC LIMIT @limit) AS w
        LEFT JOIN jobs AS j ON j.workflow_id = w.id
        GROUP BY w.seq, w.id, w.name, w.on_failure, w.created_at
        ORDER BY w.seq DESC
        """;

    /// <summary>
    /// The cleaner's extra condition on a finished job: a step goes only with its whole workflow
    /// finished, so a waiting step never loses a dependency's result.
    /// </summary>
    public static readonly string CleanableStep = $"""
        (workflow_id IS NULL OR NOT EXISTS (
          SELECT 1 FROM jobs AS u WHERE u.workflow_id = jobs.workflow_id AND {StateSql.Unfinished("u.state")}))
        """;

    /// <summary>Workflows whose steps are all gone (after the cleaner).</summary>
    public const string DeleteEmptyWorkflows = "DELETE FROM workflows WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.workflow_id = workflows.id)";
}
