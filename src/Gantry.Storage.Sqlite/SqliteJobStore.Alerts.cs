namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public Task<int> AlertEnqueueAsync(IReadOnlyList<AlertMessage> alerts, CancellationToken ct)
    {
        if (alerts.Count == 0) return Task.FromResult(0);
        return WriteAsync(_ =>
        {
            var insert = Prepared("""
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

    public Task<IReadOnlyList<AlertDelivery>> AlertDueAsync(int limit, CancellationToken ct) => ReadAsync<IReadOnlyList<AlertDelivery>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = AlertRows<SqliteColumns>.Due;
        cmd.Bind("@now", NowMs()).Bind("@limit", Math.Clamp(limit, 1, 10_000));
        using var r = cmd.ExecuteReader();
        var list = new List<AlertDelivery>();
        while (r.Read()) list.Add(AlertRows<SqliteColumns>.Read(r));
        return list;
    }, ct);

    public Task AlertSettleAsync(IReadOnlyList<AlertAttemptResult> results, TimeSpan keep, CancellationToken ct) => WriteAsync(_ =>
    {
        var now = NowMs();
        var update = Prepared("""
            UPDATE alert_outbox SET attempts = attempts + 1, next_at = @next_at, delivered = @delivered, last_error = @error,
              settled_at = CASE WHEN @next_at IS NULL THEN @now END
            WHERE id = @id AND next_at IS NOT NULL
            """);
        foreach (var r in results)
            update.Bind("@id", r.Id.ToString()).Bind("@next_at", r.Delivered ? null : r.RetryAt?.ToUnixTimeMilliseconds())
                .Bind("@delivered", r.Delivered ? 1 : 0).Bind("@error", r.Error).Bind("@now", now).ExecuteNonQuery();
        Prepared("DELETE FROM alert_outbox WHERE settled_at IS NOT NULL AND settled_at < @cutoff")
            .Bind("@cutoff", now - (long)keep.TotalMilliseconds).ExecuteNonQuery();
        return 0;
    }, ct);
}
