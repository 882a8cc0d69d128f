namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public async Task AuditAppendAsync(AuditEntry e, CancellationToken ct) =>
        await WriteAsync(_ => Prepared(AuditRows<SqliteColumns>.Insert).Bind("@id", e.Id.ToString()).Bind("@at", e.At.ToUnixTimeMilliseconds())
            .Bind("@actor", e.Actor).Bind("@action", e.Action).Bind("@target", e.Target).Bind("@count", e.Count).Bind("@detail", e.Detail).ExecuteNonQuery(), ct).ConfigureAwait(false);

    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => ReadAsync<IReadOnlyList<AuditEntry>>(c =>
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
}
