using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Endpoint metadata: the query parameters a call takes. Any other is refused (400 naming it), so a typo is never silently ignored.</summary>
internal sealed record AcceptsQuery(params string[] Names)
{
    /// <summary>Parameters that may be given more than once (each value a filter, all applying).</summary>
    public string[] Repeatable { get; init; } = [];
}

/// <summary>Query values read by the endpoints themselves, so that a bad one is a problem naming the parameter.</summary>
internal static class ApiQuery
{
    public static int? Int(string? text, string name, int min, int max)
    {
        if (text is null) return null;
        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max ? n
            : throw new InvalidInputException(name, $"must be a whole number between {min} and {max}, got '{text}'");
    }

    /// <summary>A duration written in seconds (<c>30</c>, <c>0.5</c>) or with a unit (<c>30s</c>, <c>500ms</c>), from zero to <paramref name="max"/>.</summary>
    public static TimeSpan? Duration(string? text, string name, TimeSpan max)
    {
        if (text is null) return null;
        var t = text.Trim();
        var (number, scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001) : t.EndsWith('s') ? (t[..^1], 1.0) : (t, 1.0);
        if (double.TryParse(number, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var n)
            && n * scale <= max.TotalSeconds)
            return TimeSpan.FromSeconds(n * scale);
        throw new InvalidInputException(name, $"must be a duration from 0 to {max.TotalSeconds:0}s (e.g. 30s, 500ms, or seconds), got '{text}'");
    }

    public static bool Bool(string? text, string name) => text switch
    {
        null or "false" or "0" => false,
        "true" or "1" or "" => true,
        _ => throw new InvalidInputException(name, $"must be true or false, got '{text}'"),
    };

    /// <summary>The first parameter a request gives that its endpoint does not take, gives twice, or with a NUL in it; null when all is well.</summary>
    public static InvalidInputException? Check(HttpContext http)
    {
        if (http.Request.Query.Count == 0) return null;
        var accepts = http.GetEndpoint()?.Metadata.GetMetadata<AcceptsQuery>();
        var accepted = accepts?.Names ?? [];
        foreach (var (name, values) in http.Request.Query)
        {
            if (!accepted.Contains(name, StringComparer.Ordinal))
                return new InvalidInputException(name, accepted.Length == 0
                    ? "is not a query parameter of this call (it takes none)"
                    : $"is not a query parameter of this call (it takes {string.Join(", ", accepted)})");
            if (values.Count > 1 && !accepts!.Repeatable.Contains(name, StringComparer.Ordinal)) return new InvalidInputException(name, "is given more than once");
            if (Gantry.Protocol.TextFields.HasNul(values.ToString())) return new InvalidInputException(name, Gantry.Protocol.TextFields.NulProblem);
        }
        return null;
    }
}
