using Gantry.Worker.Links;

namespace Gantry.Node.Upstream;

/// <summary>
/// Fans the coordinator's "new jobs" wake-up out to every waiting worker. The store's signal wakes
/// one waiter; the first waiter it wakes releases the others, so no worker sits out its poll interval
/// while work is there.
/// </summary>
internal sealed class JobWakeups(IWorkerLink link)
{
    private TaskCompletionSource _broadcast = New();

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits until new jobs may be claimable or <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        var broadcast = Volatile.Read(ref _broadcast).Task;
        var upstream = WaitUpstreamAsync(timeout, ct);
        if (await Task.WhenAny(upstream, broadcast).ConfigureAwait(false) == upstream) await upstream.ConfigureAwait(false);
    }

    private async Task WaitUpstreamAsync(TimeSpan timeout, CancellationToken ct)
    {
        // Woken by the link: it saw new work, so everyone waiting may claim (even when this waiter already left
        // with the broadcast, the wake-up it took is passed on).
        if (await link.WaitForJobsAsync(timeout, ct).ConfigureAwait(false)) Release();
    }

    public void Release() => Interlocked.Exchange(ref _broadcast, New()).TrySetResult();
}
