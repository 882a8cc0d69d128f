using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>SQL the relational stores share for queue figures.</summary>
public static class QueueSql
{
    /// <summary>
    /// Queued jobs per queue that is not paused. The condition is the claim index's own, so the count walks
    /// that index (only queued rows), never the finished jobs the store retains.
    /// </summary>
    public static readonly string Backlog = $"""
        SELECT queue, count(*) FROM jobs
        WHERE {JobStateMachine.SqlFrom(JobTransition.Claim)} AND queue NOT IN (SELECT queue FROM queue_pauses)
        GROUP BY queue
        """;
}
