using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Returns the garbage of start-up to the system once a long-running process has started. Building and starting the host
/// (configuration, the container, endpoints, the store's schema check, the first claims and elections) allocates several
/// times what the running process keeps; an idle process allocates little, so it would hold that memory committed for
/// minutes until its own allocations trigger a collection. One compacting collection that also releases the freed
/// memory (<see cref="GCCollectionMode.Aggressive"/>), shortly after the host has started, costs a few milliseconds
/// once and leaves the idle process with what it uses.
/// </summary>
internal static class StartupGarbage
{
    /// <summary>How long after the start the collection runs: the services' first rounds (claims, elections) are done.</summary>
    public static readonly TimeSpan AfterStart = TimeSpan.FromSeconds(1);

    /// <summary>Collects once, <see cref="AfterStart"/> after <paramref name="host"/> has started, unless it is stopping by then.</summary>
    public static void ReleaseWhenStarted(IHost host)
    {
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() => _ = Task.Delay(AfterStart, lifetime.ApplicationStopping).ContinueWith(
            delay => { if (delay.IsCompletedSuccessfully) Release(); }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default));
    }

    private static void Release() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}
