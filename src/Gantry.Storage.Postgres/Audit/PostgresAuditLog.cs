using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>The audit log and the alerts' outbox.</summary>
internal sealed class PostgresAuditLog(PostgresDatabase db) : IStoreAuditLog
{
    public Task AuditAppendAsync(AuditEntry e, CancellationToken ct) => db.RunAsync(async c =>
    {
        await using var cmd = Command(c, AuditRows<PostgresColumns>.Insert).Bind("@id", e.Id).Bind("@at", e.At.UtcDateTime).Bind("@actor", e.Actor)
            .Bind("@action", e.Action).Bind("@target", e.Target)
            .Bind("@count", e.Count, NpgsqlDbType.Bigint).Bind("@detail", e.Detail, NpgsqlDbType.Text);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }, ct);

    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => db.RunAsync<IReadOnlyList<AuditEntry>>(async c =>
    {
        await using var cmd = c.CreateCommand();
        var where = new List<string>();
        if (p.Action is not null) { where.Add("action = @action"); cmd.Bind("@action", p.Action); }
        if (p.Actor is not null) { where.Add("actor = @actor"); cmd.Bind("@actor", p.Actor); }
        if (p.Before is { } before) { where.Add("id < @before"); cmd.Bind("@before", before); }
        cmd.CommandText = $"""
            SELECT {AuditRows<PostgresColumns>.Columns} FROM audit_log {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY id DESC LIMIT @limit
            """;
        cmd.Bind("@limit", Math.Clamp(p.Limit, 1, 10_000));
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<AuditEntry>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(AuditRows<PostgresColumns>.Read(r));
        return list;
    }, ct);

    public Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct)
    {
        if (alerts.Count == 0) return Task.FromResult(0);
        return db.RunAsync(async c => await Command(c, """
            INSERT INTO alert_outbox (id, key, webhook, event, body, created_at, next_at)
            SELECT a.id, a.key, a.webhook, a.event, a.body, a.at, a.at FROM unnest(@ids, @keys, @webhooks, @events, @bodies, @ats) AS a(id, key, webhook, event, body, at)
            ON CONFLICT (key) DO NOTHING
            """)
            .Bind("@ids", alerts.Select(a => a.Id).ToArray())
            .Bind("@keys", alerts.Select(a => a.Key).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@webhooks", alerts.Select(a => a.Webhook).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@events", alerts.Select(a => a.Event).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@bodies", alerts.Select(a => a.Body).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
            .Bind("@ats", alerts.Select(a => a.At.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            .RunAsync(ct).ConfigureAwait(false), ct);
    }

    public Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct) => db.RunAsync<IReadOnlyList<AlertDelivery>>(async c =>
    {
        await using var cmd = Command(c, AlertRows<PostgresColumns>.Due)
            .Bind("@now", db.Now(), NpgsqlDbType.TimestampTz).Bind("@limit", Math.Clamp(limit, 1, 10_000));
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<AlertDelivery>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(AlertRows<PostgresColumns>.Read(r));
        return list;
    }, ct);

    public Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct) => db.TransactAsync(async c =>
    {
        var now = db.Now();
        foreach (var r in results)
            await Command(c, """
                UPDATE alert_outbox SET attempts = attempts + 1, next_at = @next_at, delivered = @delivered, last_error = @error,
                  settled_at = CASE WHEN @next_at::timestamptz IS NULL THEN @now END
                WHERE id = @id AND next_at IS NOT NULL
                """).Bind("@id", r.Id).Bind("@next_at", r.Delivered ? null : r.RetryAt?.UtcDateTime, NpgsqlDbType.TimestampTz)
                .Bind("@delivered", r.Delivered).Bind("@error", r.Error, NpgsqlDbType.Text).Bind("@now", now, NpgsqlDbType.TimestampTz)
                .RunAsync(ct).ConfigureAwait(false);
        await Command(c, "DELETE FROM alert_outbox WHERE settled_at IS NOT NULL AND settled_at < @cutoff")
            .Bind("@cutoff", now - keep, NpgsqlDbType.TimestampTz).RunAsync(ct).ConfigureAwait(false);
        return 0;
    }, ct);
}
