namespace Gantry.Storage;

/// <summary>How long a finished job is kept: the one rule of retention, for both relational stores.</summary>
internal static class RetentionSql
{
    /// <summary>A finished job's retention in milliseconds: its queue's for its state, else <c>@default_ms</c>.</summary>
    public const string RetentionMs = """
        coalesce((SELECT CASE jobs.state WHEN 'succeeded' THEN r.succeeded_ms WHEN 'dead' THEN r.dead_ms ELSE r.cancelled_ms END
                  FROM queue_retention AS r WHERE r.queue = jobs.queue), @default_ms)
        """;
}
