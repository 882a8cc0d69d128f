namespace Gantry.Cli.Options;

/// <summary>
/// The flags that set fields of a document (a job's, a schedule's), so that an error about such a field names the flag.
/// The document's rules are checked once, by its own <c>Validate</c>, which names its fields as a file or the API writes
/// them (<c>max_attempts</c>); whoever wrote <c>--max-attempts 5000</c> is told <c>--max-attempts: …</c>. A field the
/// flags did not set keeps its name (and the file's place, for a document read from one).
/// </summary>
internal sealed class FlagFields
{
    private readonly Dictionary<string, string> _flags = new(StringComparer.Ordinal);

    /// <summary>Names <paramref name="flag"/> for errors about <paramref name="field"/> (and its items, <c>field[2]</c>) when it was given.</summary>
    public FlagFields Add(string field, string flag, bool given)
    {
        if (given) _flags[field] = flag;
        return this;
    }

    /// <summary>Runs <paramref name="validate"/> on a document placed at <paramref name="where"/> (as its errors prefix fields), renaming an error about a field a flag set.</summary>
    public T Check<T>(Func<T> validate, string where = "")
    {
        try
        {
            return validate();
        }
        catch (InvalidInputException ex) when (FlagOf(ex.Where, where) is { } flag)
        {
            throw new InvalidInputException(flag, ex.Problem);
        }
    }

    private string? FlagOf(string at, string where)
    {
        var field = where.Length == 0 ? at : at.StartsWith(where + ".", StringComparison.Ordinal) ? at[(where.Length + 1)..] : null;
        if (field is null) return null;
        if (field.IndexOf('[') is var item and >= 0) field = field[..item];
        return _flags.GetValueOrDefault(field);
    }
}
