using System.Net;
using Gantry.Server.Api;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Where and how a process serves the HTTP API. Listening beyond loopback without a token is
/// refused: an open API on a network would let anyone submit jobs.
/// </summary>
internal sealed record ApiHosting(string Host, int Port, IReadOnlyList<ApiToken> Tokens)
{
    public const string DefaultListen = "127.0.0.1:5080";

    public string Url => $"http://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";

    /// <summary>Reads <c>--listen</c> (<c>host:port</c>, or <c>off</c>), <c>GANTRY_TOKENS</c> and the config file's tokens; null when off.</summary>
    public static ApiHosting? Parse(string listen, string? tokens, IReadOnlyList<ApiToken>? configured = null, string option = "--listen")
    {
        if (string.Equals(listen, "off", StringComparison.OrdinalIgnoreCase)) return null;
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new InvalidInputException(option, $"'{listen}' is not host:port (e.g. 127.0.0.1:5080, 0.0.0.0:5080) or off");
        var host = listen[..colon].Trim('[', ']');
        var api = new ApiHosting(host, port, [.. ApiToken.ParseList(tokens), .. configured ?? []]);
        if (!api.IsLoopback && api.Tokens.Count == 0)
        {
            var (what, risk) = option == "--metrics-listen" ? ("metrics", "read them") : ("the API", "submit jobs");
            throw new InvalidInputException(option, $"refusing to serve {what} on {listen} without a token: anyone who can reach it could {risk}. Set GANTRY_TOKENS (e.g. admin:<secret>), add tokens to the config file (gantry token new), or listen on 127.0.0.1");
        }
        return api;
    }

    public bool IsLoopback => Host is "localhost" || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));
}
