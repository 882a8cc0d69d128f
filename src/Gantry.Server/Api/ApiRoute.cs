using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gantry.Server.Api;

/// <summary>
/// A name taken from a request's path as the client wrote it. The server decodes a path except an encoded slash,
/// which stays <c>%2F</c> so that it does not split a segment: a queue named <c>a/b</c>, or a worker
/// id with a slash, arrives as <c>a%2Fb</c>. A value that still holds a '%' is read again from the request's raw
/// target, its segment decoded whole (a worker id may hold a '%' of its own, so the bound value cannot tell).
/// </summary>
internal static class ApiRoute
{
    /// <summary>Where a decoded value is left for the audit log's target (<see cref="ApiAudit"/>).</summary>
    public const string DecodedItem = "gantry.route_value";

    /// <summary>The path value <paramref name="bound"/>, which is the path's segment <paramref name="fromEnd"/> places
    /// before its last (0: the last), decoded.</summary>
    public static string Value(HttpContext http, string bound, int fromEnd)
    {
        if (!bound.Contains('%', StringComparison.Ordinal)) return bound;
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw)) return bound;
        var segments = raw.Split('?', 2)[0].TrimEnd('/').Split('/');
        var at = segments.Length - 1 - fromEnd;
        if (at < 0) return bound;
        var value = Uri.UnescapeDataString(segments[at]);
        http.Items[DecodedItem] = value;
        return value;
    }
}
