using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>
/// One set-based statement over many rows, given as arrays (<c>FROM unnest($1, $2, …)</c>), with
/// sequential scans off for the rest of the transaction. Without that, a plan made while the
/// table looked small (statistics lag a bulk load by up to a minute, and a generic plan is cached
/// for the connection's life) joined the arrays against a sequential scan: tens of seconds for a
/// thousand completions at 100,000 jobs. With it the join can only go through the id index, and
/// a thousand rows cost one statement instead of a thousand (about 60 µs per row as point updates).
/// </summary>
internal static class PostgresArrayUpdate
{
    /// <summary>Runs <paramref name="sql"/> with positional <paramref name="arrays"/> ($1, $2, …); returns what <paramref name="read"/> makes of each row returned.</summary>
    public static async Task<List<T>> RunAsync<T>(NpgsqlConnection c, string sql, IReadOnlyList<NpgsqlParameter> arrays, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        var results = new List<T>();
        await EachRowAsync(c, sql, arrays, r => results.Add(read(r)), ct).ConfigureAwait(false);
        return results;
    }

    /// <summary>The same, handing each row returned to <paramref name="each"/> as it is read (nothing is kept per row).</summary>
    public static async Task EachRowAsync(NpgsqlConnection c, string sql, IReadOnlyList<NpgsqlParameter> arrays, Action<NpgsqlDataReader> each, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(c);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL enable_seqscan = off"));
        var statement = new NpgsqlBatchCommand(sql);
        foreach (var p in arrays) statement.Parameters.Add(p);
        batch.BatchCommands.Add(statement);
        await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        do
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) each(r);
        } while (await r.NextResultAsync(ct).ConfigureAwait(false));
    }
}
