using System.Security.Cryptography;
using System.Text;

namespace Gantry.Server.Api;

/// <summary>What a token may do. Each scope includes the ones it lists.</summary>
public enum ApiScope
{
    /// <summary>Read jobs, queues and workers.</summary>
    Read,
    /// <summary>Read, and submit, cancel and retry jobs.</summary>
    Submit,
    /// <summary>The worker protocol only.</summary>
    Worker,
    /// <summary>Everything: also pause, resume and drain.</summary>
    Admin,
}

/// <summary>A configured token, kept as its SHA-256 only.</summary>
/// <param name="Name">A name for people (the audit log's actor); <c>scope:secret</c> lists name each token by its scope and position.</param>
/// <param name="Scope">What it may do.</param>
/// <param name="Sha256">The SHA-256 of its secret (<see cref="Hash"/>).</param>
public sealed record ApiToken(string Name, ApiScope Scope, byte[] Sha256)
{
    /// <summary>The SHA-256 of a token's secret (UTF-8), as <see cref="Sha256"/> keeps it.</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Parses <c>GANTRY_TOKENS</c>: comma-separated <c>scope:token</c> (e.g. <c>admin:s3cr3t,submit:abc</c>).</summary>
    public static IReadOnlyList<ApiToken> ParseList(string? text, string where = "GANTRY_TOKENS")
    {
        var tokens = new List<ApiToken>();
        foreach (var (entry, i) in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select((e, i) => (e, i)))
        {
            var colon = entry.IndexOf(':');
            if (colon <= 0 || colon == entry.Length - 1 || !Enum.TryParse<ApiScope>(entry[..colon], ignoreCase: true, out var scope))
                throw new InvalidInputException($"{where}[{i}]", "expected scope:token with a scope of read, submit, worker or admin");
            var token = entry[(colon + 1)..];
            if (token.Length < 8) throw new InvalidInputException($"{where}[{i}]", "a token must be at least 8 characters");
            tokens.Add(new ApiToken($"{scope.ToString().ToLowerInvariant()}-{i}", scope, Hash(token)));
        }
        return tokens;
    }

    internal bool Allows(ApiScope required) => Scope == ApiScope.Admin || Scope == required
        || (Scope == ApiScope.Submit && required == ApiScope.Read);
}

/// <summary>Endpoint metadata: the scope a call needs.</summary>
internal sealed record RequiredScope(ApiScope Scope);
