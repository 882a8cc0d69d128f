using Npgsql;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>Reads a gantry store's tables directly: the tests check what was recorded, not what a command prints.</summary>
internal static class StoreSql
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task<List<object[]>> RowsAsync(string connectionString, string sql)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await r.ReadAsync())
        {
            var row = new object[r.FieldCount];
            r.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Polls until <paramref name="sql"/> (a count) reaches <paramref name="atLeast"/>; a query failing while
    /// the server restarts counts as not yet.</summary>
    public static async Task WaitForCountAsync(string connectionString, string sql, long atLeast, TimeSpan timeout, Func<string> context)
    {
        var deadline = DateTime.UtcNow + timeout;
        long last = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await ScalarAsync<long>(connectionString, sql);
                if (last >= atLeast) return;
            }
            catch (NpgsqlException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"'{sql}' reached {last}, not {atLeast}, within {timeout}.\n{context()}");
    }
}
