using Gantry.Storage;
using Gantry.Worker.Links;

namespace Gantry.Cli.Options;

/// <summary>
/// How a worker or node reaches the coordinator: the store (<c>--store</c>/<c>--db</c>), or a
/// server's worker protocol (<c>--server</c> with <c>--token</c>). Defined once for both commands.
/// </summary>
internal sealed class CoordinatorLinkOptions() : ServerOrStoreOptions(
    "Reach a Gantry server over HTTP instead of the store (no database credentials needed here), e.g. http://host:5080",
    "The worker token for --server (default GANTRY_TOKEN)")
{
    /// <summary>Opens the link: an HTTP link when <c>--server</c> is given (no store then), else the store.</summary>
    public async Task<OpenedLink> OpenAsync(Gantry.Cli.Hosting.CommandSettings parse, CancellationToken ct)
    {
        if (parse.Get(Server) is { } url) return new OpenedLink(new HttpWorkerLink(url, parse.Get(Token)), null);
        var store = await Store.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
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
