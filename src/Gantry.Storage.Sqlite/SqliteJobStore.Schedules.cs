using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Telemetry;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public async Task<ScheduleUpsertOutcome> ScheduleUpsertAsync(ScheduleUpsertParams p, CancellationToken ct)
    {
        var outcome = await WriteAsync(c =>
        {
            var existing = ReadSchedules(c, "WHERE s.name = @name", cmd => cmd.Bind("@name", p.Definition.Name)).FirstOrDefault();
            if (existing is not null && existing.Definition.SameAs(p.Definition) && existing.Origin == p.Origin) return ScheduleUpsertOutcome.Unchanged;
            var cmd = BindSchedule(Prepared(existing is null ? ScheduleSql.Insert : ScheduleSql.Update), p.Definition)
                .Bind("@origin", p.Origin).Bind("@now", NowMs());
            if (existing is null) cmd.Bind("@paused", 0);
            cmd.ExecuteNonQuery();
            return existing is null ? ScheduleUpsertOutcome.Created : ScheduleUpsertOutcome.Updated;
        }, ct).ConfigureAwait(false);
        if (outcome != ScheduleUpsertOutcome.Unchanged) Signals.SchedulesChanged.Set();
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
        ReadAsync(c => ReadSchedules(c, "WHERE s.name = @name", cmd => cmd.Bind("@name", name)).FirstOrDefault(), ct);

    public Task<IReadOnlyList<ScheduleRecord>> ScheduleListAsync(CancellationToken ct) =>
        ReadAsync<IReadOnlyList<ScheduleRecord>>(c => ReadSchedules(c, ""), ct);

    public async Task ScheduleDeleteAsync(string name, CancellationToken ct)
    {
        await WriteAsync(_ =>
        {
            if (Prepared("DELETE FROM schedules WHERE name = @name").Bind("@name", name).ExecuteNonQuery() == 0) throw new ScheduleNotFoundException(name);
            Prepared("DELETE FROM schedule_fires WHERE schedule = @name").Bind("@name", name).ExecuteNonQuery();
            return true;
        }, ct).ConfigureAwait(false);
        Signals.SchedulesChanged.Set();
    }

    public async Task SchedulePauseAsync(string name, bool paused, CancellationToken ct)
    {
        await WriteAsync(_ =>
        {
            var n = Prepared("""
                UPDATE schedules SET paused = @paused, updated_at = @now,
                  fired_through = CASE WHEN paused = 1 AND @paused = 0 AND fired_through < @now THEN @now ELSE fired_through END
                WHERE name = @name
                """).Bind("@paused", paused ? 1 : 0).Bind("@now", NowMs()).Bind("@name", name).ExecuteNonQuery();
            if (n == 0) throw new ScheduleNotFoundException(name);
            return true;
        }, ct).ConfigureAwait(false);
        Signals.SchedulesChanged.Set();
    }

    public async Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams p, CancellationToken ct)
    {
        var result = await WriteAsync(_ =>
        {
            var fireMs = p.FireTime.ToUnixTimeMilliseconds();
            using (var r = Prepared("SELECT paused FROM schedules WHERE name = @name").Bind("@name", p.Name).ExecuteReader())
            {
                if (!r.Read()) throw new ScheduleNotFoundException(p.Name);
                if (p.AdvanceCursor && r.GetInt64(0) != 0) return new ScheduleFireResult(false, null);
            }
            var now = NowMs();
            var taken = Prepared("INSERT INTO schedule_fires (schedule, fire_time, job_id, created_at) VALUES (@name, @fire, @job, @now) ON CONFLICT DO NOTHING")
                .Bind("@name", p.Name).Bind("@fire", fireMs).Bind("@job", p.Job.Id.ToString()).Bind("@now", now).ExecuteNonQuery() == 1;
            if (p.AdvanceCursor)
                Prepared("UPDATE schedules SET fired_through = @fire WHERE name = @name AND fired_through < @fire").Bind("@fire", fireMs).Bind("@name", p.Name).ExecuteNonQuery();
            if (!taken)
            {
                using var r = Prepared("SELECT job_id FROM schedule_fires WHERE schedule = @name AND fire_time = @fire").Bind("@name", p.Name).Bind("@fire", fireMs).ExecuteReader();
                return new ScheduleFireResult(false, r.Read() ? Guid.Parse(r.GetString(0)) : null);
            }
            var state = FirstState(p.Job, now);
            if (BindJob(Raw(InsertJobSql), p.Job, state, now, GantryTracing.CurrentContext()).Execute() != 1)
                throw new InvalidInputException("idempotency_key", $"a job with key '{p.Job.IdempotencyKey}' already exists in queue {p.Job.Queue}");
            return new ScheduleFireResult(true, p.Job.Id);
        }, ct).ConfigureAwait(false);
        if (result.Fired) Signals.JobsAvailable.Set();
        return result;
    }

    public async Task ScheduleAdvanceAsync(ScheduleAdvanceParams p, CancellationToken ct) =>
        await WriteAsync(_ => Prepared("UPDATE schedules SET fired_through = @through WHERE name = @name AND fired_through < @through")
            .Bind("@through", p.Through.ToUnixTimeMilliseconds()).Bind("@name", p.Name).ExecuteNonQuery(), ct).ConfigureAwait(false);

    public async Task QueueRetentionSetAsync(QueueRetention p, CancellationToken ct) =>
        await WriteAsync(_ => p.Succeeded is null && p.Dead is null && p.Cancelled is null
            ? Prepared("DELETE FROM queue_retention WHERE queue = @queue").Bind("@queue", p.Queue).ExecuteNonQuery()
            : Prepared("""
                INSERT INTO queue_retention (queue, succeeded_ms, dead_ms, cancelled_ms) VALUES (@queue, @succeeded, @dead, @cancelled)
                ON CONFLICT (queue) DO UPDATE SET succeeded_ms = excluded.succeeded_ms, dead_ms = excluded.dead_ms, cancelled_ms = excluded.cancelled_ms
                """).Bind("@queue", p.Queue).Bind("@succeeded", Ms(p.Succeeded)).Bind("@dead", Ms(p.Dead)).Bind("@cancelled", Ms(p.Cancelled)).ExecuteNonQuery(), ct)
            .ConfigureAwait(false);

    private static long? Ms(TimeSpan? t) => t is { } v ? (long)v.TotalMilliseconds : null;

    public Task<IReadOnlyList<QueueRetention>> QueueRetentionListAsync(CancellationToken ct) => ReadAsync<IReadOnlyList<QueueRetention>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT queue, succeeded_ms, dead_ms, cancelled_ms FROM queue_retention ORDER BY queue";
        using var r = cmd.ExecuteReader();
        var list = new List<QueueRetention>();
        static TimeSpan? Span(long? ms) => ms is { } v ? TimeSpan.FromMilliseconds(v) : null;
        while (r.Read()) list.Add(new QueueRetention(r.GetString(0), Span(r.GetInt64OrNull(1)), Span(r.GetInt64OrNull(2)), Span(r.GetInt64OrNull(3))));
        return list;
    }, ct);
}
