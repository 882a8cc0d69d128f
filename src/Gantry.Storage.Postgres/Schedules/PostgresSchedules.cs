using Gantry.Jobs;
using Gantry.Scheduling;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Cron schedules: their definitions, pauses and fires.</summary>
internal sealed class PostgresSchedules(PostgresDatabase db) : IStoreSchedules
{
    public async Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct)
    {
        var outcome = await db.TransactAsync(async c =>
        {
            // The row lock orders concurrent upserts of one name (two servers reconciling the same gantry.json).
            await Command(c, "SELECT pg_advisory_xact_lock(hashtext('gantry.schedule:' || @name))").Bind("@name", p.Definition.Name).RunAsync(ct).ConfigureAwait(false);
            var existing = (await ReadSchedulesAsync(c, "WHERE s.name = @name", cmd => cmd.Bind("@name", p.Definition.Name), ct).ConfigureAwait(false)).FirstOrDefault();
            if (existing is not null && existing.Definition.SameAs(p.Definition) && existing.Origin == p.Origin) return ScheduleUpsertOutcome.Unchanged;
            var cmd = BindSchedule(Command(c, existing is null ? ScheduleSql.Insert : ScheduleSql.Update), p.Definition).Bind("@origin", p.Origin).Bind("@now", db.Now());
            if (existing is null) cmd.Bind("@paused", false);
            await cmd.RunAsync(ct).ConfigureAwait(false);
            await db.NotifyAsync(c, PostgresNotifications.Schedules, ct).ConfigureAwait(false);
            return existing is null ? ScheduleUpsertOutcome.Created : ScheduleUpsertOutcome.Updated;
        }, ct).ConfigureAwait(false);
        if (outcome != ScheduleUpsertOutcome.Unchanged) db.Signals.SchedulesChanged.Set();
        return outcome;
    }

    private static NpgsqlCommand BindSchedule(NpgsqlCommand cmd, ScheduleDefinition d) =>
        cmd.Bind("@name", d.Name).Bind("@cron", d.Cron).Bind("@time_zone", d.TimeZone).Bind("@type", d.Type).Bind("@payload", d.Payload)
            .Bind("@queue", d.Queue).Bind("@priority", d.Priority).Bind("@missed", d.Missed.ToText()).Bind("@max_catchup", d.MaxCatchup)
            .Bind("@timeout_ms", d.Timeout is { } t ? (long)t.TotalMilliseconds : null, NpgsqlDbType.Bigint).Bind("@max_attempts", d.MaxAttempts)
            .Bind("@tags", StoreJson.TagsToJson(d.Tags), NpgsqlDbType.Jsonb);

    private static async Task<List<ScheduleRecord>> ReadSchedulesAsync(NpgsqlConnection c, string where, Func<NpgsqlCommand, NpgsqlCommand>? bind, CancellationToken ct)
    {
        await using var cmd = Command(c, $"{ScheduleRows<PostgresColumns>.Select} {where} ORDER BY s.name");
        bind?.Invoke(cmd);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<ScheduleRecord>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(ScheduleRows<PostgresColumns>.Read(r));
        return list;
    }

    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct) => db.RunAsync(async c =>
        (await ReadSchedulesAsync(c, "WHERE s.name = @name", cmd => cmd.Bind("@name", name), ct).ConfigureAwait(false)).FirstOrDefault(), ct);

    public Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct) => db.RunAsync<IReadOnlyList<ScheduleRecord>>(async c =>
        await ReadSchedulesAsync(c, "", null, ct).ConfigureAwait(false), ct);

    public async Task ScheduleDeleteAsync(string name, CancellationToken ct)
    {
        await db.TransactAsync(async c =>
        {
            if (await Command(c, "DELETE FROM schedules WHERE name = @name").Bind("@name", name).RunAsync(ct).ConfigureAwait(false) == 0)
                throw new ScheduleNotFoundException(name);
            await Command(c, "DELETE FROM schedule_fires WHERE schedule = @name").Bind("@name", name).RunAsync(ct).ConfigureAwait(false);
            await db.NotifyAsync(c, PostgresNotifications.Schedules, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
        db.Signals.SchedulesChanged.Set();
    }

    public async Task SchedulePauseAsync(string name, bool paused, CancellationToken ct)
    {
        await db.TransactAsync(async c =>
        {
            var n = await Command(c, """
                UPDATE schedules SET paused = @paused, updated_at = @now,
                  fired_through = CASE WHEN paused AND NOT @paused AND fired_through < @now THEN @now ELSE fired_through END
                WHERE name = @name
                """).Bind("@paused", paused).Bind("@now", db.Now()).Bind("@name", name).RunAsync(ct).ConfigureAwait(false);
            if (n == 0) throw new ScheduleNotFoundException(name);
            await db.NotifyAsync(c, PostgresNotifications.Schedules, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
        db.Signals.SchedulesChanged.Set();
    }

    public async Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct)
    {
        var result = await db.TransactAsync(async c =>
        {
            var fire = p.FireTime.UtcDateTime;
            // The schedule's row is locked first: a pause or a removal committed before this fire is seen, one after it waits
            // for it, and fires of one schedule queue here rather than deadlock on the cursor's update (a cron fire writes the
            // row; a trigger only reads it).
            var paused = await Command(c, $"SELECT paused FROM schedules WHERE name = @name {(p.AdvanceCursor ? "FOR NO KEY UPDATE" : "FOR SHARE")}").Bind("@name", p.Name).ScalarAsync(ct).ConfigureAwait(false);
            if (paused is not bool isPaused) throw new ScheduleNotFoundException(p.Name);
            if (p.AdvanceCursor && isPaused) return new ScheduleFireResult(false, null);
            var now = db.Time.GetUtcNow();
            // The fire key decides: a concurrent fire of the same time waits here for the other's commit, then inserts nothing.
            var taken = await Command(c, "INSERT INTO schedule_fires (schedule, fire_time, job_id, created_at) VALUES (@name, @fire, @job, @now) ON CONFLICT DO NOTHING")
                .Bind("@name", p.Name).Bind("@fire", fire).Bind("@job", p.Job.Id).Bind("@now", now.UtcDateTime).RunAsync(ct).ConfigureAwait(false) == 1;
            if (p.AdvanceCursor)
                await Command(c, "UPDATE schedules SET fired_through = @fire WHERE name = @name AND fired_through < @fire")
                    .Bind("@fire", fire).Bind("@name", p.Name).RunAsync(ct).ConfigureAwait(false);
            if (!taken)
            {
                var existing = await Command(c, "SELECT job_id FROM schedule_fires WHERE schedule = @name AND fire_time = @fire")
                    .Bind("@name", p.Name).Bind("@fire", fire).ScalarAsync(ct).ConfigureAwait(false);
                return new ScheduleFireResult(false, existing is Guid g ? g : null);
            }
            var state = JobStart.State(p.Job, now);
            var inserted = await PostgresEnqueue.InsertJobsAsync(c, [p.Job], [state], now, null, null, ct).ConfigureAwait(false);
            if (inserted.Count != 1)
                throw new InvalidInputException("idempotency_key", $"a job with key '{p.Job.IdempotencyKey}' already exists in queue {p.Job.Queue}");
            if (state == JobState.Queued) await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            return new ScheduleFireResult(true, p.Job.Id);
        }, ct).ConfigureAwait(false);
        if (result.Fired) db.Signals.JobsAvailable.Set();
        return result;
    }

    public async Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct) =>
        await db.RunAsync(async c => await Command(c, "UPDATE schedules SET fired_through = @through WHERE name = @name AND fired_through < @through")
            .Bind("@through", p.Through.UtcDateTime).Bind("@name", p.Name).RunAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);
}
