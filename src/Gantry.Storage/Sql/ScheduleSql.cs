namespace Gantry.Storage;

/// <summary>The schedule statements both relational stores share.</summary>
internal static class ScheduleSql
{
    public const string Insert = """
        INSERT INTO schedules (name, cron, time_zone, type, payload, queue, priority, missed, max_catchup, timeout_ms,
                               max_attempts, tags, paused, origin, created_at, updated_at, fired_through)
        VALUES (@name, @cron, @time_zone, @type, @payload, @queue, @priority, @missed, @max_catchup, @timeout_ms,
                @max_attempts, @tags, @paused, @origin, @now, @now, @now)
        """;

    /// <summary>A changed expression or zone counts fires from now: the old cursor would read the new expression's past as missed.</summary>
    public const string Update = """
        UPDATE schedules SET cron = @cron, time_zone = @time_zone, type = @type, payload = @payload, queue = @queue,
               priority = @priority, missed = @missed, max_catchup = @max_catchup, timeout_ms = @timeout_ms,
               max_attempts = @max_attempts, tags = @tags, origin = @origin, updated_at = @now,
               fired_through = CASE WHEN (cron <> @cron OR time_zone <> @time_zone) AND fired_through < @now THEN @now ELSE fired_through END
        WHERE name = @name
        """;

    /// <summary>Fire records older than the cutoff, except each schedule's latest (shown as its last fire).</summary>
    public const string PruneFires = """
        DELETE FROM schedule_fires WHERE fire_time < @fire_cutoff
          AND fire_time < (SELECT max(f.fire_time) FROM schedule_fires AS f WHERE f.schedule = schedule_fires.schedule)
        """;
}
