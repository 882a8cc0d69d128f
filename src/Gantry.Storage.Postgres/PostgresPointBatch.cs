using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// Many single-row statements sent as one batch, in one round trip. Each finds its row through the
/// unique id index whatever the statistics say: a join with an unnest of arrays, planned while the
/// table looked small (statistics lag a bulk load by up to a minute), became a sequential scan
/// nested over the array — tens of seconds for a thousand completions at 100,000 jobs.
/// </summary>
internal static class PostgresPointBatch
{
    /// <summary>Runs <paramref name="sql"/> once per row, binding positional parameters ($1, $2, …); returns the first column of every row returned.</summary>
    public static async Task<List<T>> RunAsync<T>(NpgsqlConnection c, string sql, IEnumerable<object?[]> rows, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(c);
        foreach (var values in rows)
        {
            var cmd = new NpgsqlBatchCommand(sql);
            foreach (var value in values) cmd.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            batch.BatchCommands.Add(cmd);
        }
        var results = new List<T>();
        if (batch.BatchCommands.Count == 0) return results;
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        do
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) results.Add(read(r));
        } while (await r.NextResultAsync(ct).ConfigureAwait(false));
        return results;
    }
}
