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

    /// <summary>Host names answered besides loopback and the listen address (a proxy's, a DNS name); <c>*</c> for any.</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Browser origins allowed to call the API (CORS).</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Whether the dashboard is served at <c>/</c> beside the API (<c>--dashboard</c>).</summary>
    public bool Dashboard { get; init; } = true;

    /// <summary>Payloads and results hidden from read-only callers (<c>--dashboard-hide-payloads</c>).</summary>
    public bool HidePayloads { get; init; }

    /// <summary>The options the API is served with.</summary>
    public ApiOptions ApiOptions(IReadOnlyList<string> knownJobTypes) =>
        new() { Tokens = Tokens, KnownJobTypes = knownJobTypes, AllowedHosts = AllowedHosts, CorsOrigins = CorsOrigins, HidePayloadsFromReaders = HidePayloads };

    /// <summary>Adds <c>--dashboard</c> and <c>--dashboard-hide-payloads</c> (or the config file's <c>dashboard_hide_payloads</c>).</summary>
    public ApiHosting WithDashboard(string? dashboard, bool hidePayloads, GantryConfig config) =>
        this with { Dashboard = CliOptions.DashboardOn(dashboard), HidePayloads = hidePayloads || config.DashboardHidePayloads };

    /// <summary>
    /// The options a worker's or node's <c>/metrics</c> is served with: the API's host rule (behind a token
    /// any host name may scrape it unless allowed hosts are given; open, on loopback, only loopback names may).
    /// </summary>
    public ApiOptions MetricsOptions() => new() { Tokens = Tokens, AllowedHosts = AllowedHosts };

    /// <summary>Adds <c>--allowed-hosts</c> and <c>--cors-origins</c> (comma-separated) to the config file's lists.</summary>
    public ApiHosting WithBrowserAccess(string? allowedHosts, string? corsOrigins, GantryConfig config) => this with
    {
        AllowedHosts = [.. CheckHosts(Split(allowedHosts), "--allowed-hosts"), .. config.AllowedHosts],
        CorsOrigins = [.. CheckOrigins(Split(corsOrigins), "--cors-origins"), .. config.CorsOrigins],
    };

    private static string[] Split(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Host names as the <c>Host</c> header gives them, without scheme or port; <c>*</c> allows any.</summary>
    public static IReadOnlyList<string> CheckHosts(IEnumerable<string> hosts, string where) => hosts.Select((h, i) =>
        h == "*" || Uri.CheckHostName(h.Trim('[', ']')) != UriHostNameType.Unknown ? h.Trim('[', ']')
            : throw new InvalidInputException($"{where}[{i}]", $"'{h}' is not a host name (e.g. gantry.internal, without scheme or port), or *")).ToArray();

    /// <summary>Origins as a browser sends them: scheme, host and port only (https://ui.example.com).</summary>
    public static IReadOnlyList<string> CheckOrigins(IEnumerable<string> origins, string where) => origins.Select((o, i) =>
        Uri.TryCreate(o, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority)
            : throw new InvalidInputException($"{where}[{i}]", $"'{o}' is not an origin (scheme://host[:port], e.g. https://ui.example.com)")).ToArray();

    /// <summary>Reads <c>--listen</c> (<c>host:port</c>, or <c>off</c>), <c>GANTRY_TOKENS</c> and the config file's tokens; null when off.</summary>
    public static ApiHosting? Parse(string listen, string? tokens, IReadOnlyList<ApiToken>? configured = null, string option = "--listen")
    {
        if (string.Equals(listen, "off", StringComparison.OrdinalIgnoreCase)) return null;
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new InvalidInputException(option, $"'{listen}' is not host:port (e.g. 127.0.0.1:5080, 0.0.0.0:5080) or off");
        var host = listen[..colon].Trim('[', ']');
        // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is served as the IPv4 address it is.
        if (IPAddress.TryParse(host, out var written) && written.IsIPv4MappedToIPv6) host = written.MapToIPv4().ToString();
        else if (host.Length == 0 || (host is not ("localhost" or "*" or "+") && written is null && Uri.CheckHostName(host) == UriHostNameType.Unknown))
            throw new InvalidInputException(option, $"'{listen}' is not host:port (e.g. 127.0.0.1:5080, 0.0.0.0:5080) or off");
        var api = new ApiHosting(host, port, [.. ApiToken.ParseList(tokens), .. configured ?? []]);
        if (!api.IsLoopback && api.Tokens.Count == 0)
        {
            var (what, risk) = option == "--metrics-listen" ? ("metrics", "read them") : ("the API", "submit jobs");
            throw new InvalidInputException(option, $"refusing to serve {what} on {listen} without a token: anyone who can reach it could {risk}. Set GANTRY_TOKENS (e.g. admin:<secret>), add tokens to the config file (gantry token new), or listen on 127.0.0.1");
        }
        api.CheckCanListen(option);
        return api;
    }

    /// <summary>
    /// Binds the address once and lets it go, so that an address this machine does not have, or a port
    /// in use, is one line naming the option before anything starts, not a failed host.
    /// </summary>
    private void CheckCanListen(string option)
    {
        IPAddress[] addresses;
        try
        {
            addresses = Host switch
            {
                "localhost" => [IPAddress.Loopback],
                "*" or "+" => [IPAddress.Any],
                _ => IPAddress.TryParse(Host, out var ip) ? [ip] : System.Net.Dns.GetHostAddresses(Host),
            };
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new InvalidInputException(option, $"cannot listen on {Url[7..]}: {ex.Message}");
        }
        foreach (var address in addresses)
        {
            using var socket = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(address, Port));
                return;
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                var why = ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse ? "the port is in use" : ex.Message;
                throw new InvalidInputException(option, $"cannot listen on {Url[7..]}: {why}");
            }
        }
        throw new InvalidInputException(option, $"cannot listen on {Url[7..]}: the name has no address");
    }

    public bool IsLoopback => Host is "localhost" || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));
}
