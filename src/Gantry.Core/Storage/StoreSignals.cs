namespace Gantry.Storage;

/// <summary>
/// In-process wake-ups raised by a store's writes, so a worker in the same process starts new
/// work at once instead of waiting for its poll interval.
/// </summary>
public sealed class StoreSignals
{
    /// <summary>Jobs became claimable (enqueue, promote, retry, requeue).</summary>
    public AsyncSignal JobsAvailable { get; } = new();

    /// <summary>A job became scheduled (delayed or backing off): the scheduler may need to wake earlier.</summary>
    public AsyncSignal ScheduleChanged { get; } = new();

    /// <summary>A schedule was created, changed, paused, resumed or removed: the schedule firer reads them again.</summary>
    public AsyncSignal SchedulesChanged { get; } = new();

    /// <summary>A worker command was queued (cancel of a running job).</summary>
    public AsyncSignal CommandsAvailable { get; } = new();
}

/// <summary>
/// A coalescing auto-reset signal: any number of <see cref="Set"/> calls wake the next wait once.
/// </summary>
public sealed class AsyncSignal
{
    private TaskCompletionSource _tcs = NewSource();
    private int _set;

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set()
    {
        if (Interlocked.Exchange(ref _set, 1) == 0)
            Volatile.Read(ref _tcs).TrySetResult();
    }

    /// <summary>Waits until set or until the timeout; true when set. Resets the signal.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _set, 0) == 1)
        {
            Interlocked.Exchange(ref _tcs, NewSource());
            return true;
        }
        var task = Volatile.Read(ref _tcs).Task;
        // Re-check after reading the task: a Set between the exchange and the read completed the old task.
        if (Volatile.Read(ref _set) == 1) { Interlocked.Exchange(ref _set, 0); Interlocked.Exchange(ref _tcs, NewSource()); return true; }
        try
        {
            await task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        Interlocked.Exchange(ref _set, 0);
        Interlocked.Exchange(ref _tcs, NewSource());
        return true;
    }
}
