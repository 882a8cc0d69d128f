using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gantry.Server.Api;

/// <summary>
/// Route values as the client wrote them. The server decodes a request's path except an encoded slash, which stays
/// <c>%2F</c> so that it does not split a segment: a queue named <c>a/b</c>, or a worker id with a slash, would be bound
/// as <c>a%2Fb</c>. <see cref="ApiGuard"/> calls <see cref="Decode"/> before every endpoint binds its parameters (and the
/// audit log reads its target), so no endpoint handles it itself.
/// </summary>
internal static class ApiRoute
{
    /// <summary>Replaces each route value that still holds a '%' with its path segment read from the request's raw target
    /// and decoded whole (a worker id may hold a '%' of its own, so the bound value alone cannot tell).</summary>
    public static void Decode(HttpContext http)
    {
        var values = http.Request.RouteValues;
        if (!values.Values.Any(v => v is string s && s.Contains('%', StringComparison.Ordinal))) return;
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw)) return;
        // The decoded path keeps every segment where the raw one has it (an encoded slash splits neither), so the two line up.
        var rawSegments = raw.Split('?', 2)[0].Split('/');
        var segments = (http.Request.PathBase + http.Request.Path).Value?.Split('/') ?? [];
        if (rawSegments.Length != segments.Length) return;
        foreach (var (key, value) in values.ToArray())
        {
            if (value is not string bound || !bound.Contains('%', StringComparison.Ordinal)) continue;
            var at = Array.IndexOf(segments, bound);
            if (at >= 0) values[key] = Uri.UnescapeDataString(rawSegments[at]);
        }
    }
}
