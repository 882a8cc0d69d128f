namespace Gantry.Storage;

/// <summary>
/// What a job list's <c>search</c> finds, the same in both stores: a job whose id is the text (when it is a job id),
/// whose idempotency key is exactly the text, or whose type starts with the text (case-sensitive).
/// </summary>
public static class JobSearch
{
    /// <summary>The SQL condition; the caller binds <c>@search</c> (the text) and, when <paramref name="asId"/> is not null, <c>@search_id</c>
    /// (the id as the store keeps it).</summary>
    /// <param name="prefixSql">The store's "type starts with @search" condition.</param>
    public static string Sql(string text, string prefixSql, out Guid? asId)
    {
        asId = Guid.TryParse(text, out var id) ? id : null;
        return asId is null
            ? $"(idempotency_key = @search OR {prefixSql})"
            : "(id = @search_id OR idempotency_key = @search)";
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
