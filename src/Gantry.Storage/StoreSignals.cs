namespace Gantry.Storage;

/// <summary>
/// Wake-ups raised by a store's writes, so a worker starts new work at once instead of waiting for its
/// poll interval. Always raised by this process's own writes; raised by other processes' writes too while
/// <see cref="CrossProcess"/> is true (PostgreSQL's LISTEN connection is up).
/// </summary>
public sealed class StoreSignals
{
    /// <summary>
    /// How often a waiter looks for itself while <see cref="CrossProcess"/> holds: a net under a lost
    /// notification, not the way work is found, so an idle worker costs the database almost nothing.
    /// </summary>
    public static readonly TimeSpan CrossProcessPoll = TimeSpan.FromSeconds(15);

    /// <summary>
    /// True while every write that raises a signal, from any process on the store, reaches these signals.
    /// The store sets it; when it turns false the store raises every signal, so waiters move on to short polls.
    /// </summary>
    public bool CrossProcess { get => Volatile.Read(ref _crossProcess); set => Volatile.Write(ref _crossProcess, value); }
    private bool _crossProcess;

    /// <summary>How long to wait for a signal before looking anyway: <paramref name="poll"/>, or
    /// <see cref="CrossProcessPoll"/> when signals carry every process's writes.</summary>
    public TimeSpan PollFor(TimeSpan poll) => CrossProcess && poll < CrossProcessPoll ? CrossProcessPoll : poll;

    /// <summary>Jobs became claimable (enqueue, promote, retry, requeue).</summary>
    public AsyncSignal JobsAvailable { get; } = new();

    /// <summary>A job became scheduled (delayed or backing off): the scheduler may need to wake earlier.</summary>
    public AsyncSignal ScheduleChanged { get; } = new();

    /// <summary>A schedule was created, changed, paused, resumed or removed: the schedule firer reads them again.</summary>
    public AsyncSignal SchedulesChanged { get; } = new();

    /// <summary>A worker command was queued (cancel of a running job).</summary>
    public AsyncSignal CommandsAvailable { get; } = new();

    /// <summary>
    /// A job may have ended (succeeded, dead or cancelled): raised by this process's writes of outcomes and cancels, so that
    /// a waiter for a job's end (<c>IJobClient.WaitAsync</c>, the API's <c>?wait=</c>) looks again at once. On PostgreSQL
    /// other processes' ends reach it too, by a notification each process sends at most every 20 ms; on SQLite they do not,
    /// and waiters keep a slow poll for those.
    /// </summary>
    public AsyncSignal JobsEnded { get; } = new();
}

/// <summary>
/// A coalescing signal. <see cref="WaitAsync"/> is auto-reset: any number of <see cref="Set"/> calls wake the next wait
/// once, so it suits one consumer. A <see cref="Cursor"/> is for many: each cursor wakes for every set since its own
/// last wait, and none takes a wake-up from another.
/// </summary>
public sealed class AsyncSignal
{
    private TaskCompletionSource _tcs = NewSource();
    private int _set;
    private long _count;
    private TaskCompletionSource? _changed; // completed by the next Set; null until a cursor waits

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many times <see cref="Set"/> was called: a clock of activity that a poller which does not
    /// consume the signal can compare between rounds.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Signals: wakes the current or next <see cref="WaitAsync"/> once (calls before it coalesce) and every cursor. Thread-safe.</summary>
    public void Set()
    {
        Interlocked.Increment(ref _count);
        Interlocked.Exchange(ref _changed, null)?.TrySetResult();
        if (Interlocked.Exchange(ref _set, 1) == 0)
            Volatile.Read(ref _tcs).TrySetResult();
    }

    /// <summary>A waiter of its own that has seen every set so far.</summary>
    public SignalCursor Cursor() => new(this, Count);

    /// <summary>Waits until <see cref="Count"/> differs from <paramref name="seen"/> or the timeout passes; true when it does.</summary>
    internal async Task<bool> WaitChangedAsync(long seen, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        // The task first, then the count: a set between the two shows in the count; a later one completes the task.
        var changed = Volatile.Read(ref _changed);
        if (changed is null)
        {
            var fresh = NewSource();
            changed = Interlocked.CompareExchange(ref _changed, fresh, null) ?? fresh;
        }
        if (Count != seen) return true;
        try
        {
            await changed.Task.WaitAsync(timeout, time, ct).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return Count != seen;
        }
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

/// <summary>
/// One waiter's place in an <see cref="AsyncSignal"/>: <see cref="WaitAsync(TimeSpan, CancellationToken)"/> returns at once when the signal was set
/// since this cursor's last wait returned (say, while its owner was claiming), so no wake-up is lost to another waiter.
/// Callers that share one cursor all wake for a set; each then counts as having seen it.
/// </summary>
public sealed class SignalCursor
{
    private readonly AsyncSignal _signal;
    private long _seen;

    internal SignalCursor(AsyncSignal signal, long seen)
    {
        _signal = signal;
        _seen = seen;
    }

    /// <summary>Waits until the signal is set (or was, since the last wait) or the timeout passes; true when set.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => WaitAsync(timeout, TimeProvider.System, ct);

    /// <summary>As <see cref="WaitAsync(TimeSpan, CancellationToken)"/>, the timeout measured on <paramref name="time"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var set = await _signal.WaitChangedAsync(_seen, timeout, time, ct).ConfigureAwait(false);
        _seen = _signal.Count;
        return set;
    }
}
