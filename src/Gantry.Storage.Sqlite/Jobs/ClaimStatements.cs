using Gantry.Jobs;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The claim's statements, shared by the plain claim (<see cref="SqliteClaims"/>) and the limited one
/// (<see cref="SqliteFlowLimits"/>): the worker's filters, the columns every claim returns, the claim of a queue.
/// </summary>
internal static class ClaimStatements
{
    /// <summary>
    /// The plain claim for a worker with <paramref name="types"/> job types (null: any) and
    /// <paramref name="caps"/> capabilities. The lists are spelled out as parameters, not passed as
    /// JSON: a json_each per statement costs a claim more than its row updates. A job with required
    /// capabilities is claimable only when every one of them is among the worker's.
    /// </summary>
    public static string Sql(int? types, int caps) => Sql(types, caps, limited: false);

    /// <summary>Binds the parameters of <see cref="Filters"/> (the worker's job types and capabilities) on <paramref name="statement"/>.</summary>
    public static RawStatement BindFilters(RawStatement statement, JobClaimParams p)
    {
        for (var i = 0; i < p.JobTypes?.Count; i++) statement.Bind($"@t{i}", p.JobTypes[i]);
        for (var i = 0; i < p.Capabilities.Count; i++) statement.Bind($"@c{i}", p.Capabilities[i]);
        return statement;
    }

    /// <summary>The worker's job type and capability filters on the jobs aliased <paramref name="alias"/>.</summary>
    public static string Filters(int? types, int caps, string alias)
    {
        static string List(string prefix, int n) => string.Join(", ", Enumerable.Range(0, n).Select(i => $"@{prefix}{i}"));
        var typeFilter = types is { } t ? $"AND {alias}.type IN ({(t == 0 ? "NULL" : List("t", t))})" : "";
        var capFilter = caps == 0
            ? $"AND {alias}.required_capabilities IS NULL"
            : $"AND ({alias}.required_capabilities IS NULL OR NOT EXISTS (SELECT 1 FROM json_each({alias}.required_capabilities) AS need WHERE need.value NOT IN ({List("c", caps)})))";
        return $"{typeFilter} {capFilter}";
    }

    /// <summary>How many columns <see cref="Returning"/> names: a claim that returns more puts them after these.</summary>
    public const int ReturningCount = 21;

    /// <summary>The columns every claim returns, in the order <see cref="ClaimedJobReader.Read"/> reads them.</summary>
    public const string Returning = """
        RETURNING seq, id, type, queue, priority, payload, attempt, max_attempts, timeout_ms,
                  backoff_base_ms, backoff_max_ms, tags, created_at, checkpoint, checkpoint_at, checkpoint_interval_ms, run_at,
                  workflow_id IS NOT NULL, trace_parent, trace_state, limits
        """;

    /// <summary>
    /// The claim of up to @limit jobs. A queue without limits is claimed only while it has none (a limited queue is
    /// claimed by the limited path, <see cref="SqliteFlowLimits"/>, which passes <paramref name="limited"/> for a queue
    /// limited without keys and adds what it claimed to the queue's running total).
    /// </summary>
    public static string Sql(int? types, int caps, bool limited) => $"""
        UPDATE jobs
        SET state = 'running', attempt = attempt + 1, worker_id = @worker, lease_until = @lease_until,
            started_at = @now, progress = NULL, progress_message = NULL
        WHERE seq IN (
            SELECT j.seq FROM jobs AS j
            WHERE j.{StateSql.From(JobTransition.Claim)} AND j.queue = @queue {Filters(types, caps, "j")}
              AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = @queue) AND {WorkerStates.ClaimsSql}
              {(limited ? "" : "AND NOT EXISTS (SELECT 1 FROM queue_limits WHERE queue = @queue)")}
            ORDER BY j.priority DESC, j.seq
            LIMIT @limit)
        {Returning}
        """;
}
