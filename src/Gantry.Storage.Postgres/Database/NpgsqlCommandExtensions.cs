using Npgsql;
using NpgsqlTypes;

namespace Gantry.Storage.Postgres;

internal static class NpgsqlCommandExtensions
{
    /// <summary>Adds a parameter; a null value is sent as SQL NULL of <paramref name="type"/> (typed, so that
    /// <c>@p IS NULL</c> and <c>= ANY(@p)</c> plan).</summary>
    public static NpgsqlCommand Bind(this NpgsqlCommand cmd, string name, object? value, NpgsqlDbType? type = null)
    {
        var p = new NpgsqlParameter(name, value ?? DBNull.Value);
        if (type is { } t) p.NpgsqlDbType = t;
        cmd.Parameters.Add(p);
        return cmd;
    }

    /// <summary>The same for a statement of a batch.</summary>
    public static NpgsqlBatchCommand Bind(this NpgsqlBatchCommand cmd, string name, object? value, NpgsqlDbType? type = null)
    {
        var p = new NpgsqlParameter(name, value ?? DBNull.Value);
        if (type is { } t) p.NpgsqlDbType = t;
        cmd.Parameters.Add(p);
        return cmd;
    }

    /// <summary>Timestamps go to timestamptz in UTC whatever offset they were given with.</summary>
    public static object Utc(this DateTimeOffset? value) => value is { } v ? v.UtcDateTime : DBNull.Value;

    public static DateTime Utc(this DateTimeOffset value) => value.UtcDateTime;

    public static DateTimeOffset GetTime(this NpgsqlDataReader r, int i) => PostgresColumns.Time(r, i);

    public static DateTimeOffset? GetTimeOrNull(this NpgsqlDataReader r, int i) => r.GetTimeOrNull<PostgresColumns>(i);
}

internal static class NpgsqlCommandRunExtensions
{
    /// <summary>Executes and disposes the command; the number of rows changed.</summary>
    public static async Task<int> RunAsync(this NpgsqlCommand cmd, CancellationToken ct)
    {
        await using (cmd) return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Executes and disposes the command; the first column of the first row, or null.</summary>
    public static async Task<object?> ScalarAsync(this NpgsqlCommand cmd, CancellationToken ct)
    {
        await using (cmd)
        {
            var value = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return value is DBNull ? null : value;
        }
    }
}
