using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>SQL the relational stores share for queue figures.</summary>
public static class QueueSql
{
    /// <summary>
    /// Queued jobs per queue that is not paused. The condition is the claim index's own, so the count walks
    /// that index (only queued rows), never the finished jobs the store retains.
    /// </summary>
    /// <param name="stateColumn">The column the claim index's predicate names: the state, or a column derived from it.</param>
    public static string Backlog(string stateColumn = "state") => $"""
        SELECT queue, count(*) FROM jobs
        WHERE {JobStateMachine.SqlFrom(JobTransition.Claim, stateColumn)} AND queue NOT IN (SELECT queue FROM queue_pauses)
        GROUP BY queue
        """;
}
