using System.CommandLine;
using Gantry.Storage;
using Gantry.Worker.Links;

namespace Gantry.Cli.Options;

/// <summary>
/// How a worker or node reaches the coordinator: the store (<c>--store</c>/<c>--db</c>), or a
/// server's worker protocol (<c>--server</c> with <c>--token</c>). Defined once for both commands.
/// </summary>
internal sealed class CoordinatorLinkOptions
{
    public StoreLocationOptions Location { get; } = CliOptions.StoreLocation();

    public Option<Uri?> Server { get; } = new("--server")
    {
        Description = "Reach a Gantry server over HTTP instead of the store (no database credentials needed here), e.g. http://host:5080",
        HelpName = "url",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
            r.AddError($"--server: '{text}' is not an http(s) URL (e.g. http://127.0.0.1:5080)");
            return null;
        },
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "The worker token for --server (default GANTRY_TOKEN)",
        HelpName = "token",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GANTRY_TOKEN"),
    };

    public void AddTo(Command command)
    {
        command.Add(Location);
        command.Options.Add(Server);
        command.Options.Add(Token);
    }

    /// <summary>Opens the link: an HTTP link when <c>--server</c> is given (no store then), else the store.</summary>
    public async Task<OpenedLink> OpenAsync(ParseResult parse, CancellationToken ct)
    {
        if (parse.GetValue(Server) is { } url) return new OpenedLink(new HttpWorkerLink(url, parse.GetValue(Token)), null);
        var store = await Location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
        return new OpenedLink(null, store);
    }
}

/// <summary>The coordinator link a command opened: over HTTP, or the store itself.</summary>
internal sealed record OpenedLink(HttpWorkerLink? Http, IJobStore? Store) : IAsyncDisposable
{
    public IWorkerLink Link => (IWorkerLink?)Http ?? new StoreWorkerLink(Store!);
    public string Description => Http?.Description ?? Store!.Description;

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (Store is not null) await Store.DisposeAsync().ConfigureAwait(false);
    }
}
