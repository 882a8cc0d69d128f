namespace Gantry.Storage.Sqlite;

/// <summary>The audit log and the alert outbox.</summary>
internal sealed class SqliteAuditLog(SqliteDatabase db) : IStoreAuditLog
{
    public async Task AuditAppendAsync(AuditEntry e, CancellationToken ct) =>
        await db.WriteAsync(_ => db.Prepared(AuditRows<SqliteColumns>.Insert).Bind("@id", e.Id.ToString()).Bind("@at", e.At.ToUnixTimeMilliseconds())
            .Bind("@actor", e.Actor).Bind("@action", e.Action).Bind("@target", e.Target).Bind("@count", e.Count).Bind("@detail", e.Detail).ExecuteNonQuery(), ct).ConfigureAwait(false);

    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => db.ReadAsync<IReadOnlyList<AuditEntry>>(c =>
    {
        using var cmd = c.CreateCommand();
        var where = new List<string>();
        if (p.Action is not null) { where.Add("action = @action"); cmd.Bind("@action", p.Action); }
        if (p.Actor is not null) { where.Add("actor = @actor"); cmd.Bind("@actor", p.Actor); }
        if (p.Before is { } before) { where.Add("seq < coalesce((SELECT seq FROM audit_log WHERE id = @before), 0)"); cmd.Bind("@before", before.ToString()); }
        cmd.CommandText = $"""
            SELECT {AuditRows<SqliteColumns>.Columns} FROM audit_log {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY seq DESC LIMIT @limit
            """;
        cmd.Bind("@limit", Math.Clamp(p.Limit, 1, 10_000));
        using var r = cmd.ExecuteReader();
        var list = new List<AuditEntry>();
        while (r.Read())
            list.Add(AuditRows<SqliteColumns>.Read(r));
        return list;
    }, ct);

    public Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct)
    {
        if (alerts.Count == 0) return Task.FromResult(0);
        return db.WriteAsync(_ =>
        {
            var insert = db.Prepared("""
                INSERT INTO alert_outbox (id, key, webhook, event, body, created_at, next_at) VALUES (@id, @key, @webhook, @event, @body, @at, @at)
                ON CONFLICT (key) DO NOTHING
                """);
            var added = 0;
            foreach (var a in alerts)
                added += insert.Bind("@id", a.Id.ToString()).Bind("@key", a.Key).Bind("@webhook", a.Webhook).Bind("@event", a.Event)
                    .Bind("@body", a.Body).Bind("@at", a.At.ToUnixTimeMilliseconds()).ExecuteNonQuery();
            return added;
        }, ct);
    }

    public Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct) => db.ReadAsync<IReadOnlyList<AlertDelivery>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = AlertRows<SqliteColumns>.Due;
        cmd.Bind("@now", db.NowMs()).Bind("@limit", Math.Clamp(limit, 1, 10_000));
        using var r = cmd.ExecuteReader();
        var list = new List<AlertDelivery>();
        while (r.Read()) list.Add(AlertRows<SqliteColumns>.Read(r));
        return list;
    }, ct);

    public Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct) => db.WriteAsync(_ =>
    {
        var now = db.NowMs();
        var update = db.Prepared("""
            UPDATE alert_outbox SET attempts = attempts + 1, next_at = @next_at, delivered = @delivered, last_error = @error,
              settled_at = CASE WHEN @next_at IS NULL THEN @now END
            WHERE id = @id AND next_at IS NOT NULL
            """);
        foreach (var r in results)
            update.Bind("@id", r.Id.ToString()).Bind("@next_at", r.Delivered ? null : r.RetryAt?.ToUnixTimeMilliseconds())
                .Bind("@delivered", r.Delivered ? 1 : 0).Bind("@error", r.Error).Bind("@now", now).ExecuteNonQuery();
        db.Prepared("DELETE FROM alert_outbox WHERE settled_at IS NOT NULL AND settled_at < @cutoff")
            .Bind("@cutoff", now - (long)keep.TotalMilliseconds).ExecuteNonQuery();
        return 0;
    }, ct);
}
