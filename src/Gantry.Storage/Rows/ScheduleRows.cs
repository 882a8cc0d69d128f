using System.Data.Common;
using Gantry.Scheduling;

namespace Gantry.Storage;

/// <summary>A schedule's row with its latest fire, as both stores select and read it: <see cref="Select"/> names the columns
/// in the order <see cref="Read"/> reads them.</summary>
internal static class ScheduleRows<TStore> where TStore : struct, IStoreColumns
{
    /// <summary>Schedules with their latest fire (the fire key's index finds it); append a WHERE on <c>s</c> and an ORDER BY.</summary>
    public static readonly string Select = $"""
        SELECT s.name, s.cron, s.time_zone, s.type, s.payload, s.queue, s.priority, s.missed, s.max_catchup, s.timeout_ms,
               s.max_attempts, {TStore.JsonText("s.tags")}, s.paused, s.origin, s.created_at, s.updated_at, s.fired_through, f.fire_time, f.job_id
        FROM schedules AS s
        LEFT JOIN schedule_fires AS f ON f.schedule = s.name
          AND f.fire_time = (SELECT max(fire_time) FROM schedule_fires WHERE schedule = s.name)
        """;

    public static ScheduleRecord Read(DbDataReader r) => new()
    {
        Definition = new ScheduleDefinition
        {
            Name = r.GetString(0), Cron = r.GetString(1), TimeZone = r.GetString(2), Type = r.GetString(3), Payload = r.GetString(4),
            Queue = r.GetString(5), Priority = r.GetInt32(6), Missed = MissedFirePolicies.Parse(r.GetString(7)), MaxCatchup = r.GetInt32(8),
            Timeout = r.GetMillisecondsOrNull(9), MaxAttempts = r.GetInt32(10),
            Tags = StoreJson.TagsFromJson(r.GetStringOrNull(11)),
        },
        Paused = r.GetBoolean(12),
        Origin = r.GetString(13),
        CreatedAt = TStore.Time(r, 14),
        UpdatedAt = TStore.Time(r, 15),
        FiredThrough = TStore.Time(r, 16),
        LastFireTime = r.GetTimeOrNull<TStore>(17),
        LastJobId = r.GetGuidOrNull(18),
    };
}
