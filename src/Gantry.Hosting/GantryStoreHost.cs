using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gantry.Hosting;

/// <summary>
/// Opens the store when the host starts, before any other Gantry service (it is registered first), creating or upgrading
/// its schema, or only checking it with <c>"Migrate": false</c>; the host disposes it when it is disposed itself, after every
/// service has stopped. In server mode (<see cref="GantryOptions.Server"/>) there is no store and it does nothing.
/// </summary>
internal sealed class GantryStoreHost(IOptions<GantryOptions> options, ILogger<GantryStoreHost> logger) : IHostedService, IAsyncDisposable
{
    private IJobStore? _store;

    /// <summary>The open store; throws before the host has started, and in server mode.</summary>
    public IJobStore Store => _store ?? throw new InvalidOperationException(options.Value.StoreLocation is null
        ? "Gantry talks to a server in this application (Gantry:Server), not to a store: there is no IJobStore"
        : "the Gantry store is opened when the host starts: resolve IJobStore (or what uses it) after the host has started");

    public bool IsOpen => _store is not null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.StoreLocation is not { } location) return;
        // An application's SQLite file may hold its own tables already: Gantry's go beside them.
        _store = await Stores.OpenAsync(location, createIfMissing: o.Migrate, cancellationToken, migrate: o.Migrate, shareFile: o.ShareFile).ConfigureAwait(false);
        logger.LogInformation("Gantry store {Store} open", _store.Description);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_store is { } store) await store.DisposeAsync().ConfigureAwait(false);
    }
}
