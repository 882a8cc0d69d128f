namespace Gantry.Storage;

/// <summary>
/// What a job list's <c>search</c> finds, the same in both stores: a job whose id is the text (when it is a job id),
/// whose idempotency key is exactly the text, or whose type starts with the text (case-sensitive). The id is found
/// through the primary key and the key through <c>jobs_key</c>. Where the store has a type index (SQLite's
/// <c>jobs_type</c>, which ends in the row key) a type prefix becomes the job types it covers (<see cref="TypesSql"/>,
/// one probe each), then the newest page of each; elsewhere it is matched walking the list newest first.
/// </summary>
internal static class JobSearch
{
    /// <summary>The most job types a prefix is walked type by type; a prefix that covers more is read newest first
    /// over the whole list instead (bounded by how common it is).</summary>
    public const int MaxPrefixTypes = 32;

    /// <summary>The end (exclusive) of the names that start with <paramref name="prefix"/> in byte order: job types are
    /// ASCII (<c>JobDraft.CheckName</c>), every character below DEL.</summary>
    public static string PrefixEnd(string prefix) => prefix + '\u007f';

    /// <summary>
    /// The job types that start with <c>@search</c> (bound with <c>@search_end</c> = <see cref="PrefixEnd"/>), at most
    /// <see cref="MaxPrefixTypes"/> + 1, in byte order: a loose index scan, each step the next type after the last.
    /// </summary>
    /// <param name="collate">The store's byte-order collation clause (<c> COLLATE "C"</c>), or empty where it is the default.</param>
    public static string TypesSql(string collate) => $"""
        WITH RECURSIVE t(type, n) AS (
          SELECT (SELECT type FROM jobs WHERE type{collate} >= @search AND type{collate} < @search_end ORDER BY type{collate} LIMIT 1), 1
          UNION ALL
          SELECT (SELECT j.type FROM jobs AS j WHERE j.type{collate} > t.type{collate} AND j.type{collate} < @search_end ORDER BY j.type{collate} LIMIT 1), t.n + 1
          FROM t WHERE t.type IS NOT NULL AND t.n <= {MaxPrefixTypes})
        SELECT type FROM t WHERE type IS NOT NULL
        """;

    /// <summary>
    /// The SQL condition "the job is one the text finds": <c>jobs.{rowKey} IN</c> the union of the candidates, each part
    /// filtered by <paramref name="filter"/> and the type parts limited to the page (<c>@limit</c>). The caller binds
    /// <c>@search</c>, <c>@limit</c>, <c>@search_id</c> when <paramref name="asId"/> is not null (the id as the store keeps it),
    /// and <c>@search_type0</c>… for <paramref name="types"/>.
    /// </summary>
    /// <param name="types">The job types the text starts (<see cref="TypesSql"/>); null when there were too many to walk.</param>
    /// <param name="typeIs">The store's "type equals this parameter" condition, which its type index serves.</param>
    /// <param name="prefixSql">The store's "type starts with @search" condition, for a prefix that covers too many types.</param>
    public static string Sql(string text, IReadOnlyList<string>? types, string rowKey, IReadOnlyList<string> filter,
        Func<string, string> typeIs, string prefixSql, out Guid? asId)
    {
        asId = Guid.TryParse(text, out var id) ? id : null;
        var and = filter.Count > 0 ? " AND " + string.Join(" AND ", filter) : "";
        var parts = new List<string>();
        if (asId is not null) parts.Add($"SELECT {rowKey} FROM jobs WHERE id = @search_id{and}");
        parts.Add($"SELECT {rowKey} FROM jobs WHERE idempotency_key = @search{and}");
        if (asId is null && types is null)
            parts.Add($"SELECT {rowKey} FROM (SELECT {rowKey} FROM jobs WHERE {prefixSql}{and} ORDER BY {rowKey} DESC LIMIT @limit) AS p");
        else if (asId is null)
            for (var i = 0; i < types!.Count; i++)
                parts.Add($"SELECT {rowKey} FROM (SELECT {rowKey} FROM jobs WHERE {typeIs($"@search_type{i}")}{and} ORDER BY {rowKey} DESC LIMIT @limit) AS t{i}");
        return $"jobs.{rowKey} IN ({string.Join(" UNION ALL ", parts)})";
    }

    /// <summary>Parses a tag filter <c>key=value</c> (split at the first '='); throws <see cref="InvalidInputException"/> naming <paramref name="field"/>.</summary>
    public static KeyValuePair<string, string> ParseTag(string text, string field)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || string.IsNullOrWhiteSpace(text[..eq]))
            throw new InvalidInputException(field, $"'{text}' is not key=value");
        return new(text[..eq], text[(eq + 1)..]);
    }
}
