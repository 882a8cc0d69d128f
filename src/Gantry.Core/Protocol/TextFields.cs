namespace Gantry.Protocol;

/// <summary>
/// The rule for every text field a client sends (idempotency key, tag, worker id, message, log line…):
/// no NUL character. PostgreSQL's text cannot hold one and SQLite would keep it, so both stores
/// refuse it the same way, as bad input, before the store is reached.
/// </summary>
public static class TextFields
{
    public const string NulProblem = "holds a NUL character (\\u0000), which no text field may hold";

    public static bool HasNul(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal);

    /// <summary>Returns <paramref name="value"/>; throws <see cref="InvalidInputException"/> naming <paramref name="where"/> if it holds a NUL.</summary>
    public static string Check(string value, string where) => HasNul(value) ? throw new InvalidInputException(where, NulProblem) : value;
}
