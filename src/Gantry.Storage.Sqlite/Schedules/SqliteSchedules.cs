using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Telemetry;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>Cron schedules: their definitions and pauses, and each fire taken once, its job inserted in the same transaction.</summary>
internal sealed class SqliteSchedules(SqliteDatabase db, StoreSignals signals) : IStoreSchedules
{
    public async Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct)
    {
        var outcome = await db.WriteAsync(c =>
        {
            var existing = ReadSchedules(c, "WHERE s.name = @name", cmd => cmd.Bind("@name", p.Definition.Name)).FirstOrDefault();
            if (existing is not null && existing.Definition.SameAs(p.Definition) && existing.Origin == p.Origin) return ScheduleUpsertOutcome.Unchanged;
            var cmd = BindSchedule(db.Prepared(existing is null ? ScheduleSql.Insert : ScheduleSql.Update), p.Definition)
                .Bind("@origin", p.Origin).Bind("@now", db.NowMs());
            if (existing is null) cmd.Bind("@paused", 0);
            cmd.ExecuteNonQuery();
            return existing is null ? ScheduleUpsertOutcome.Created : ScheduleUpsertOutcome.Updated;
        }, ct).ConfigureAwait(false);
        if (outcome != ScheduleUpsertOutcome.Unchanged) signals.SchedulesChanged.Set();
        return outcome;
    }

    private static SqliteCommand BindSchedule(SqliteCommand cmd, ScheduleDefinition d) =>
        cmd.Bind("@name", d.Name).Bind("@cron", d.Cron).Bind("@time_zone", d.TimeZone).Bind("@type", d.Type).Bind("@payload", d.Payload)
            .Bind("@queue", d.Queue).Bind("@priority", d.Priority).Bind("@missed", d.Missed.ToText()).Bind("@max_catchup", d.MaxCatchup)
            .Bind("@timeout_ms", d.Timeout is { } t ? (long)t.TotalMilliseconds : null).Bind("@max_attempts", d.MaxAttempts)
            .Bind("@tags", StoreJson.TagsToJson(d.Tags));

    private static List<ScheduleRecord> ReadSchedules(SqliteConnection c, string where, Func<SqliteCommand, SqliteCommand>? bind = null)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"{ScheduleRows<SqliteColumns>.Select} {where} ORDER BY s.name";
        bind?.Invoke(cmd);
        using var r = cmd.ExecuteReader();
        var list = new List<ScheduleRecord>();
        while (r.Read())
            list.Add(ScheduleRows<SqliteColumns>.Read(r));
        return list;
    }

    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken ct) =>
        db.ReadAsync(c => ReadSchedules(c, "WHERE s.name = @name", cmd => cmd.Bind("@name", name)).FirstOrDefault(), ct);

    public Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<ScheduleRecord>>(c => ReadSchedules(c, ""), ct);

    public async Task ScheduleDeleteAsync(string name, CancellationToken ct)
    {
        await db.WriteAsync(_ =>
        {
            if (db.Prepared("DELETE FROM schedules WHERE name = @name").Bind("@name", name).ExecuteNonQuery() == 0) throw new ScheduleNotFoundException(name);
            db.Prepared("DELETE FROM schedule_fires WHERE schedule = @name").Bind("@name", name).ExecuteNonQuery();
            return true;
        }, ct).ConfigureAwait(false);
        signals.SchedulesChanged.Set();
    }

    public async Task SchedulePauseAsync(string name, bool paused, CancellationToken ct)
    {
        await db.WriteAsync(_ =>
        {
            var n = db.Prepared("""
                UPDATE schedules SET paused = @paused, updated_at = @now,
                  fired_through = CASE WHEN paused = 1 AND @paused = 0 AND fired_through < @now THEN @now ELSE fired_through END
                WHERE name = @name
                """).Bind("@paused", paused ? 1 : 0).Bind("@now", db.NowMs()).Bind("@name", name).ExecuteNonQuery();
            if (n == 0) throw new ScheduleNotFoundException(name);
            return true;
        }, ct).ConfigureAwait(false);
        signals.SchedulesChanged.Set();
    }

    public async Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct)
    {
        var result = await db.WriteAsync(_ =>
        {
            var fireMs = p.FireTime.ToUnixTimeMilliseconds();
            using (var r = db.Prepared("SELECT paused FROM schedules WHERE name = @name").Bind("@name", p.Name).ExecuteReader())
            {
                if (!r.Read()) throw new ScheduleNotFoundException(p.Name);
                if (p.AdvanceCursor && r.GetInt64(0) != 0) return new ScheduleFireResult(false, null);
            }
            var now = db.NowMs();
            var taken = db.Prepared("INSERT INTO schedule_fires (schedule, fire_time, job_id, created_at) VALUES (@name, @fire, @job, @now) ON CONFLICT DO NOTHING")
                .Bind("@name", p.Name).Bind("@fire", fireMs).Bind("@job", p.Job.Id.ToString()).Bind("@now", now).ExecuteNonQuery() == 1;
            if (p.AdvanceCursor)
                db.Prepared("UPDATE schedules SET fired_through = @fire WHERE name = @name AND fired_through < @fire").Bind("@fire", fireMs).Bind("@name", p.Name).ExecuteNonQuery();
            if (!taken)
            {
                using var r = db.Prepared("SELECT job_id FROM schedule_fires WHERE schedule = @name AND fire_time = @fire").Bind("@name", p.Name).Bind("@fire", fireMs).ExecuteReader();
                return new ScheduleFireResult(false, r.Read() ? Guid.Parse(r.GetString(0)) : null);
            }
            var state = JobInsert.FirstState(p.Job, now);
            if (JobInsert.BindJob(db.Raw(JobInsert.Sql), p.Job, state, now, GantryTracing.CurrentContext()).Execute() != 1)
                throw new InvalidInputException("idempotency_key", $"a job with key '{p.Job.IdempotencyKey}' already exists in queue {p.Job.Queue}");
            return new ScheduleFireResult(true, p.Job.Id);
        }, ct).ConfigureAwait(false);
        if (result.Fired) signals.JobsAvailable.Set();
        return result;
    }

    public async Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct) =>
        await db.WriteAsync(_ => db.Prepared("UPDATE schedules SET fired_through = @through WHERE name = @name AND fired_through < @through")
            .Bind("@through", p.Through.ToUnixTimeMilliseconds()).Bind("@name", p.Name).ExecuteNonQuery(), ct).ConfigureAwait(false);
}
