using Gantry.Storage;

namespace Gantry.Worker.Execution;

/// <summary>
/// What a worker holds: jobs running, per queue and in total, and jobs claimed ahead of free
/// slots (prefetched). A transaction costs SQLite about as much as a hundred row updates, so a
/// worker that claimed only as many jobs as it had free slots would spend its time committing;
/// claiming a little ahead makes claims large. How far ahead adapts to how long jobs take: only
/// what the slots will finish within <see cref="PrefetchHorizon"/> is claimed early, so slow jobs
/// are never hoarded away from idle workers. All members are thread-safe.
/// </summary>
internal sealed class JobSlots
{
    /// <summary>Prefetch only what the slots will get through in this much time.</summary>
    public static readonly TimeSpan PrefetchHorizon = TimeSpan.FromMilliseconds(50);

    private readonly object _lock = new();
    private readonly IReadOnlyDictionary<string, int> _limits;
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _buffered = new(StringComparer.Ordinal);
    private readonly List<ClaimedJob> _buffer = [];
    private readonly int _capacity;
    private readonly int _maxPrefetch;
    private int _runningTotal;
    private double _averageTicks = -1; // moving average of job durations; negative until the first is seen

    public JobSlots(IReadOnlyDictionary<string, int> limits, int capacity, int maxPrefetch)
    {
        _limits = limits;
        _capacity = capacity;
        _maxPrefetch = maxPrefetch;
        foreach (var queue in limits.Keys) { _running[queue] = 0; _buffered[queue] = 0; }
    }

    public int Running { get { lock (_lock) return _runningTotal; } }
    public int Buffered { get { lock (_lock) return _buffer.Count; } }

    /// <summary>How many jobs to prefetch beyond free slots, from the observed job durations.</summary>
    public int Prefetch
    {
        get
        {
            lock (_lock) return PrefetchLocked();
        }
    }

    private int PrefetchLocked()
    {
        if (_maxPrefetch <= 0 || _averageTicks < 0) return 0;
        var perSlot = PrefetchHorizon.Ticks / Math.Max(_averageTicks, 1);
        return (int)Math.Clamp(perSlot * _capacity, 0, _maxPrefetch);
    }

    /// <summary>
    /// What to ask the store for: per queue, its free slots plus its share of the prefetch, less
    /// what is buffered. Empty when a claim now would be small and other work will free slots soon.
    /// </summary>
    public List<QueueDemand> Demands(out int wanted)
    {
        var demands = new List<QueueDemand>(_limits.Count);
        wanted = 0;
        lock (_lock)
        {
            var prefetch = PrefetchLocked();
            var totalRoom = _capacity + prefetch - _runningTotal - _buffer.Count;
            foreach (var (queue, limit) in _limits)
            {
                var share = prefetch == 0 ? 0 : (int)Math.Ceiling((double)prefetch * limit / Math.Max(_capacity, 1));
                var take = Math.Min(limit + share - _running[queue] - _buffered[queue], totalRoom - wanted);
                if (take <= 0) continue;
                demands.Add(new QueueDemand(queue, take));
                wanted += take;
            }
            // Busy and little room: wait for more to free up, so that claims stay large.
            var idle = _buffer.Count == 0 && _runningTotal < _capacity;
            if (!idle && wanted < Math.Max(1, (_capacity + prefetch) / 2))
            {
                demands.Clear();
                wanted = 0;
            }
        }
        return demands;
    }

    /// <summary>Adds claimed jobs (given in priority, then age order) to the buffer, keeping it in priority order.</summary>
    public void AddClaimed(IReadOnlyList<ClaimedJob> jobs)
    {
        lock (_lock)
        {
            foreach (var job in jobs)
            {
                // After everything of equal or higher priority: a later claim may bring more urgent work.
                var at = _buffer.FindLastIndex(b => b.Priority >= job.Priority) + 1;
                _buffer.Insert(at, job);
                _buffered[job.Queue] = _buffered.GetValueOrDefault(job.Queue) + 1;
            }
        }
    }

    /// <summary>Takes the next buffered job that may start now, counting it as running.</summary>
    public bool TryStartNext(out ClaimedJob job)
    {
        lock (_lock)
        {
            if (_runningTotal < _capacity)
            {
                for (var i = 0; i < _buffer.Count; i++)
                {
                    var candidate = _buffer[i];
                    if (_running[candidate.Queue] >= _limits[candidate.Queue]) continue;
                    _buffer.RemoveAt(i);
                    _buffered[candidate.Queue]--;
                    _running[candidate.Queue]++;
                    _runningTotal++;
                    job = candidate;
                    return true;
                }
            }
        }
        job = null!;
        return false;
    }

    /// <summary>A running job ended after <paramref name="duration"/>.</summary>
    public void Finished(string queue, TimeSpan duration)
    {
        lock (_lock)
        {
            _running[queue]--;
            _runningTotal--;
            var ticks = Math.Max(duration.Ticks, 1);
            _averageTicks = _averageTicks < 0 ? ticks : _averageTicks * 0.9 + ticks * 0.1;
        }
    }

    /// <summary>Removes a buffered (not started) job; false when it is not buffered.</summary>
    public bool TryRemoveBuffered(Guid id, out ClaimedJob job)
    {
        lock (_lock)
        {
            var i = _buffer.FindIndex(j => j.Id == id);
            if (i < 0) { job = null!; return false; }
            job = _buffer[i];
            _buffer.RemoveAt(i);
            _buffered[job.Queue]--;
            return true;
        }
    }

    /// <summary>Empties the buffer (shutdown), returning what was in it.</summary>
    public List<ClaimedJob> TakeBuffered()
    {
        lock (_lock)
        {
            var all = new List<ClaimedJob>(_buffer);
            _buffer.Clear();
            foreach (var queue in _limits.Keys) _buffered[queue] = 0;
            return all;
        }
    }
}
