using Gantry.Storage;

namespace Gantry.Flow;

/// <summary>
/// Which queues have limits, as a store instance last read them. Claims of queues in it take the limited path;
/// a claim of any other queue is guarded in its statement (it takes nothing from a queue that has limits), so a
/// stale set can only delay a newly limited queue's claims until the next refresh, never exceed a limit.
/// </summary>
internal sealed class LimitedQueues(TimeProvider time)
{
    /// <summary>How long a read set is trusted.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);

    private volatile IReadOnlySet<string> _queues = new HashSet<string>(StringComparer.Ordinal);
    private volatile IReadOnlySet<string> _perKey = new HashSet<string>(StringComparer.Ordinal);
    private volatile IReadOnlyDictionary<string, QueueRate> _rates = new Dictionary<string, QueueRate>(StringComparer.Ordinal);
    private long _readAt = long.MinValue;
    private int _wakeArmed;
    private int _emptyClaims;

    public IReadOnlySet<string> Queues => _queues;

    /// <summary>The queues whose claims walk their keys (<see cref="QueueLimits.IsPerKey"/>).</summary>
    public IReadOnlySet<string> PerKey => _perKey;

    public bool IsStale => time.GetTimestamp() - Interlocked.Read(ref _readAt) > (long)(RefreshEvery.TotalSeconds * time.TimestampFrequency)
                           || Interlocked.Read(ref _readAt) == long.MinValue;

    /// <summary>Takes every queue's limits as the store holds them now.</summary>
    public void Set(IEnumerable<(string Queue, QueueLimits Limits)> limited)
    {
        var queues = new HashSet<string>(StringComparer.Ordinal);
        var perKey = new HashSet<string>(StringComparer.Ordinal);
        var rates = new Dictionary<string, QueueRate>(StringComparer.Ordinal);
        foreach (var (queue, limits) in limited)
        {
            queues.Add(queue);
            if (limits.IsPerKey) perKey.Add(queue);
            if ((limits.Rate ?? limits.RatePerKey) is { } rate) rates[queue] = rate;
        }
        (_queues, _perKey, _rates) = (queues, perKey, rates);
        Interlocked.Exchange(ref _readAt, time.GetTimestamp());
    }

    /// <summary>
    /// After a claim of a limited queue came back short: raises <paramref name="signal"/> soon, so that workers that
    /// wait for work (their queue looked drained) claim again as soon as a slot or a start may be free instead of at
    /// their next poll. For a rate (the queue's, else its rate per key), after the rate's mean spacing (its window over
    /// its count, at least 5 ms); for a
    /// concurrency limit, after 10 ms, doubling while claims come back empty (an idle queue) up to 200 ms, the
    /// workers' own poll. One wake-up is pending at a time.
    /// </summary>
    public void WakeAfterShortClaim(string queue, int claimed, AsyncSignal signal)
    {
        if (Interlocked.Exchange(ref _wakeArmed, 1) == 1) return;
        TimeSpan delay;
        if (_rates.TryGetValue(queue, out var rate))
            delay = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, rate.Per.Ticks / rate.Count));
        else
        {
            var empty = 0;
            if (claimed == 0) empty = Math.Min(Interlocked.Increment(ref _emptyClaims), 5);
            else Interlocked.Exchange(ref _emptyClaims, 0);
            delay = TimeSpan.FromMilliseconds(Math.Min(200, 10 << empty));
        }
        _ = Task.Delay(delay, time).ContinueWith(_ =>
        {
            Volatile.Write(ref _wakeArmed, 0);
            signal.Set();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Forgets the set, so the next claim reads it again (after this instance changed limits).</summary>
    public void Invalidate() => Interlocked.Exchange(ref _readAt, long.MinValue);
}
