using NpgsqlTypes;

namespace Gantry.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    public Task AuditAppendAsync(AuditEntry e, CancellationToken ct) => RunAsync(async c =>
    {
        await using var cmd = Command(c, AuditRows<PostgresColumns>.Insert).Bind("@id", e.Id).Bind("@at", e.At.UtcDateTime).Bind("@actor", e.Actor)
            .Bind("@action", e.Action).Bind("@target", e.Target)
            .Bind("@count", e.Count, NpgsqlDbType.Bigint).Bind("@detail", e.Detail, NpgsqlDbType.Text);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }, ct);

    public Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct) => RunAsync<IReadOnlyList<AuditEntry>>(async c =>
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
}
