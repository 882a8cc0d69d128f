using Gantry.Flow;
using Gantry.Storage;

namespace Gantry.Worker.Execution;

/// <summary>
/// What a worker holds: jobs running, per queue and in total, and jobs claimed ahead of free
/// slots (prefetched). A transaction costs SQLite about as much as a hundred row updates, so a
/// worker that claimed only as many jobs as it had free slots would spend its time committing;
/// claiming a little ahead makes claims large. How far ahead adapts to how long jobs take: only
/// what the slots will finish within <see cref="PrefetchHorizon"/> is claimed early. Durations seen
/// earlier say nothing about the next jobs once none has ended for <see cref="StaleAfter"/> (idle, or
/// busy with slower ones): then nothing is prefetched, and jobs buffered behind a queue whose slots
/// have all been busy that long are given back (<see cref="TakeStale"/>), so slow jobs are never
/// hoarded away from idle workers. All members are thread-safe.
/// </summary>
internal sealed class JobSlots
{
    /// <summary>Prefetch only what the slots will get through in this much time.</summary>
    public static readonly TimeSpan PrefetchHorizon = TimeSpan.FromMilliseconds(50);

    /// <summary>With no job ended for this long, the durations seen so far are out of date.</summary>
    public static readonly TimeSpan StaleAfter = PrefetchHorizon * 2;

    private readonly object _lock = new();
    private readonly Dictionary<string, int> _limits; // concrete: enumerated per job, its struct enumerator does not box
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _buffered = new(StringComparer.Ordinal);
    private readonly List<ClaimedJob> _buffer = [];
    private readonly int _capacity;
    private readonly int _maxPrefetch;
    private int _runningTotal;
    private double _averageTicks = -1; // moving average of job durations; negative until the first is seen
    private long _lastEnd; // when a job last ended (timestamp); 0 before the first
    private readonly Dictionary<string, long> _lastProgress = new(StringComparer.Ordinal); // per queue: last job ended or claimed in

    /// <summary>How long an idle worker waits for a slot to free before it plans again.</summary>
    private static readonly TimeSpan IdleRecheck = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, (long At, TimeSpan For)> _drainedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _heldBackClaims = new(StringComparer.Ordinal); // in a row, per queue
    private readonly HashSet<string> _heldBack = new(StringComparer.Ordinal); // queues whose wait is a held-back one
    private readonly Dictionary<Guid, string> _endedUnwritten = []; // jobs ended here whose outcome is not yet written, with their queue
    private readonly TimeSpan _drainedFor;
    private bool _anyLive = true; // at the last plan, some queue was not drained (nor held back)

    /// <summary>How long a queue held back by a flow limit waits before it is asked again: slots free as the
    /// cluster's jobs end, long before the poll interval. While the worker is idle on the queue, doubled for each
    /// held-back claim in a row that brought nothing, up to the poll interval (a queue that is empty after all).</summary>
    public static readonly TimeSpan HeldBackRecheck = TimeSpan.FromMilliseconds(10);

    /// <summary>How long a held-back queue waits for the write of its ended jobs' outcomes before it is asked again anyway.</summary>
    public static readonly TimeSpan UnwrittenRecheck = PrefetchHorizon;
    private readonly TimeProvider _time;

    /// <param name="drainedFor">How long a queue that came back short is taken as empty (the poll interval).</param>
    public JobSlots(IReadOnlyDictionary<string, int> limits, int capacity, int maxPrefetch, TimeSpan drainedFor, TimeProvider time)
    {
        _drainedFor = drainedFor;
        _time = time;
        _limits = new Dictionary<string, int>(limits, StringComparer.Ordinal);
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

    private int PrefetchLocked() => PrefetchLocked(_capacity);

    /// <summary>What <paramref name="slots"/> slots get through within the horizon.</summary>
    private int PrefetchLocked(int slots)
    {
        if (_maxPrefetch <= 0 || _averageTicks < 0 || _lastEnd == 0 || _time.GetElapsedTime(_lastEnd) > StaleAfter) return 0;
        var perSlot = PrefetchHorizon.Ticks / Math.Max(_averageTicks, 1);
        return (int)Math.Clamp(perSlot * slots, 0, _maxPrefetch);
    }

    /// <summary>
    /// What to ask the coordinator for: per queue, its free slots plus its share of the prefetch,
    /// less what is buffered. <see cref="ClaimPlan.Wanted"/> is 0 when a claim now would be small
    /// and running jobs will free more room soon, so that claims stay large. Only queues that may
    /// have work count towards that: a queue whose last claim came back short (drained) is asked
    /// along but does not, until <see cref="_drainedFor"/> passes or the link signals new work.
    /// </summary>
    public ClaimPlan Plan()
    {
        var demands = new List<QueueDemand>(_limits.Count);
        var wanted = 0;
        var mayWait = true;
        var now = _time.GetTimestamp();
        var recheck = IdleRecheck;
        lock (_lock)
        {
            // The prefetch is for the slots of the queues that may have work, shared in proportion to their concurrency.
            var liveLimits = 0;
            foreach (var (queue, limit) in _limits)
                if (!IsDrained(queue, now, ref recheck)) liveLimits += limit;
            var prefetch = PrefetchLocked(Math.Min(_capacity, liveLimits));
            _anyLive = liveLimits > 0;
            var totalRoom = _capacity + prefetch - _runningTotal - _buffer.Count;
            int live = 0, liveFull = 0;
            var liveIdle = false;
            foreach (var pass in (ReadOnlySpan<bool>)[true, false])
            {
                foreach (var (queue, limit) in _limits)
                {
                    var isLive = !IsDrained(queue, now, ref recheck);
                    if (isLive != pass) continue;
                    var share = !isLive || prefetch == 0 ? 0 : (int)Math.Ceiling((double)prefetch * limit / liveLimits);
                    var room = limit + share - _running[queue] - _buffered[queue];
                    var take = Math.Min(room, totalRoom - wanted);
                    // A queue with no room (or cut short) is busy: its slots free up soon, and a claim parked
                    // on the other queues would leave them empty meanwhile.
                    if (take < room || room <= 0) mayWait = false;
                    if (take <= 0) continue;
                    demands.Add(new QueueDemand(queue, take));
                    wanted += take;
                    if (!isLive) continue;
                    live += take;
                    liveFull += limit + share;
                    if (_buffered[queue] == 0 && _running[queue] < limit && _runningTotal < _capacity) liveIdle = true;
                }
            }
            // Busy and little room: wait for more to free up, so that claims stay large.
            if (live == 0 || (!liveIdle && live < Math.Max(1, liveFull / 2)))
            {
                demands.Clear();
                wanted = 0;
            }
        }
        // Jobs wait in the buffer: look again in time to give them back if they go stale.
        if (Buffered > 0 && StaleAfter < recheck) recheck = StaleAfter;
        return new ClaimPlan(demands, wanted, mayWait, recheck);
    }

    /// <summary>True when the queue's last claim came back short and its wait (the poll interval, or less when held back) has not passed; lowers
    /// <paramref name="recheck"/> to when it is due for another look.</summary>
    private bool IsDrained(string queue, long now, ref TimeSpan recheck)
    {
        if (!_drainedAt.TryGetValue(queue, out var drained)) return false;
        var left = drained.For - _time.GetElapsedTime(drained.At, now);
        if (left <= TimeSpan.Zero) return false;
        if (left < recheck) recheck = left;
        return true;
    }

    /// <summary>
    /// Notes what a claim brought: a queue that got fewer jobs than asked is drained for now, for the poll
    /// interval; when the claim says a flow limit held it back, not at all if it brought at least half (or
    /// <see cref="QueueLimits.WholeClaim"/> jobs) and none of its ended jobs' outcomes are still to be written; else
    /// until the write of those outcomes frees its slots (<see cref="ReportsWritten"/>; <see cref="UnwrittenRecheck"/> at
    /// most), or with none on their way for <see cref="HeldBackRecheck"/>, doubling while it is idle on the queue.
    /// True when every queue asked came back short and none was held back (the coordinator has nothing more for
    /// this worker until new work comes).
    /// </summary>
    public bool Claimed(ClaimPlan plan, IReadOnlyList<ClaimedJob> jobs)
    {
        var heldBack = ClaimedJobs.HeldBackOf(jobs);
        var got = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var job in jobs) got[job.Queue] = got.GetValueOrDefault(job.Queue) + 1;
        var now = _time.GetTimestamp();
        var allShort = true;
        lock (_lock)
        {
            foreach (var demand in plan.Demands)
            {
                var brought = got.GetValueOrDefault(demand.Queue);
                _heldBack.Remove(demand.Queue);
                if (brought >= demand.Limit)
                {
                    _drainedAt.Remove(demand.Queue);
                    _heldBackClaims.Remove(demand.Queue);
                    allShort = false;
                }
                else if (heldBack.Contains(demand.Queue) && (brought * 2 >= demand.Limit || brought >= QueueLimits.WholeClaim)
                         && UnwrittenIn(demand.Queue) == 0)
                {
                    // Cut short by a limit, but it brought at least half of what it asked, or a large claim's worth: room
                    // may be left (a claim takes at most half a large concurrency limit, however much it asks) or freed
                    // meanwhile. Asked again at once, unless outcomes of the queue's jobs are being written: what is left
                    // then is mostly what the outcomes written so far freed, and the write under way frees more. One that
                    // brought less waits for slots to free, so that claims stay large.
                    _drainedAt.Remove(demand.Queue);
                    _heldBackClaims.Remove(demand.Queue);
                    allShort = false;
                }
                else if (heldBack.Contains(demand.Queue))
                {
                    // While this worker runs the queue's jobs, or ended some lately (their reports free slots as they are
                    // written), slots are about to free: 10 ms. Idle on it, doubling while such claims bring nothing.
                    var busy = brought > 0 || _running[demand.Queue] > 0 || _buffered[demand.Queue] > 0
                               || (_lastProgress.TryGetValue(demand.Queue, out var last) && _time.GetElapsedTime(last, now) < StaleAfter);
                    var inRow = busy ? 0 : Math.Min(_heldBackClaims.GetValueOrDefault(demand.Queue) + 1, 16);
                    _heldBackClaims[demand.Queue] = inRow;
                    var wait = TimeSpan.FromTicks(Math.Min(_drainedFor.Ticks, HeldBackRecheck.Ticks << Math.Max(0, inRow - 1)));
                    // Outcomes of the queue's jobs are on their way to the store: their write frees room and makes the
                    // queue due (ReportsWritten), and a claim before it lands would find little. The timer is only the
                    // fallback, for a write that is slow to land.
                    if (UnwrittenIn(demand.Queue) > 0) wait = TimeSpan.FromTicks(Math.Min(_drainedFor.Ticks, UnwrittenRecheck.Ticks));
                    _drainedAt[demand.Queue] = (now, wait);
                    _heldBack.Add(demand.Queue);
                    allShort = false;
                }
                else
                {
                    _drainedAt[demand.Queue] = (now, _drainedFor);
                    _heldBackClaims.Remove(demand.Queue);
                }
            }
        }
        return allShort;
    }

    /// <summary>The link signalled new work: every queue may have jobs again.</summary>
    public void Undrain()
    {
        lock (_lock)
        {
            _drainedAt.Clear();
            _heldBack.Clear();
        }
    }

    /// <summary>How many jobs of <paramref name="queue"/> ended here with their outcome not yet written (under the lock).
    /// Counted when a held-back claim or a write asks, a few hundred entries at most: no second record to keep in step.</summary>
    private int UnwrittenIn(string queue)
    {
        var n = 0;
        foreach (var q in _endedUnwritten.Values)
            if (string.Equals(q, queue, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>
    /// Reports were written: the slots of this worker's jobs whose outcome they carry are free in the store now (whichever
    /// link the reports took). A held-back queue with such a job is due at once, not at its recheck: its claim finds at
    /// least that room. Only the written outcomes count: a job that ended while an earlier group was being written frees
    /// nothing until its own group is. A write that freed a few slots while more of the queue's outcomes are on their way
    /// (the first outcomes of a claim go alone, the rest end during their write) leaves the queue waiting for those: a
    /// claim for a few jobs costs the store nearly what a large one does. True when some queue became due.
    /// </summary>
    public bool ReportsWritten(IReadOnlyList<JobReport> written)
    {
        lock (_lock)
        {
            Dictionary<string, int>? freed = null;
            foreach (var report in written)
            {
                if (!report.EndsAttempt || !_endedUnwritten.Remove(report.JobId, out var queue)) continue;
                freed ??= new Dictionary<string, int>(StringComparer.Ordinal);
                freed[queue] = freed.GetValueOrDefault(queue) + 1;
            }
            if (freed is null) return false;
            var due = false;
            foreach (var (queue, n) in freed)
            {
                var coming = UnwrittenIn(queue);
                if ((n >= coming || n >= QueueLimits.WholeClaim) && _heldBack.Remove(queue))
                {
                    _drainedAt.Remove(queue);
                    due = true;
                }
            }
            return due;
        }
    }

    /// <summary>Adds claimed jobs (given in priority, then age order) to the buffer, keeping it in priority order.</summary>
    public void AddClaimed(IReadOnlyList<ClaimedJob> jobs)
    {
        lock (_lock)
        {
            foreach (var job in jobs)
            {
                // After everything of equal or higher priority: a later claim may bring more urgent work.
                // From the end: a claim comes highest priority first, so the place is found in a step or two, without a delegate.
                var at = _buffer.Count;
                while (at > 0 && _buffer[at - 1].Priority < job.Priority) at--;
                _buffer.Insert(at, job);
                _buffered[job.Queue] = _buffered.GetValueOrDefault(job.Queue) + 1;
                _lastProgress[job.Queue] = _time.GetTimestamp();
            }
        }
    }

    /// <summary>Takes the next buffered job that may start now, counting it as running.</summary>
    public bool TryStartNext(out ClaimedJob job)
    {
        lock (_lock)
        {
            if (_runningTotal < _capacity && AnyStartableLocked())
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

    /// <summary>Whether some queue with a free slot has buffered jobs. Checked first, so that a job's end does not
    /// walk a long buffer of a full queue's jobs (a worker serving several queues, with a backlog in one).</summary>
    private bool AnyStartableLocked()
    {
        foreach (var (queue, limit) in _limits)
            if (_buffered[queue] > 0 && _running[queue] < limit) return true;
        return false;
    }

    /// <summary>A running job ended after <paramref name="duration"/>. <paramref name="reported"/>: an outcome that ends
    /// the attempt is queued to be written after this call (<see cref="ReportsWritten"/> looks for it). True when the slot
    /// it freed may make a claim worth planning: false while every queue was drained or held back at the last
    /// <see cref="Plan"/>, which only a recheck, new work or a written outcome changes, each of which wakes the planner
    /// itself (under a limit that binds, the planner would otherwise wake for each job that ends, to find nothing to ask).</summary>
    public bool Finished(Guid jobId, string queue, TimeSpan duration, bool reported)
    {
        lock (_lock)
        {
            _running[queue]--;
            _runningTotal--;
            if (reported) _endedUnwritten[jobId] = queue;
            _lastEnd = _lastProgress[queue] = _time.GetTimestamp();
            var ticks = Math.Max(duration.Ticks, 1);
            _averageTicks = _averageTicks < 0 ? ticks : _averageTicks * 0.9 + ticks * 0.1;
            return _anyLive;
        }
    }

    /// <summary>
    /// Takes out the buffered jobs of queues that cannot start them soon: every slot busy, and no job of
    /// the queue ended (nor came in) for <see cref="StaleAfter"/>. They were claimed ahead on the word of
    /// faster jobs; given back, an idle worker can run them now.
    /// </summary>
    public List<ClaimedJob> TakeStale()
    {
        var stale = new List<ClaimedJob>();
        lock (_lock)
        {
            if (_buffer.Count == 0) return stale;
            var now = _time.GetTimestamp();
            foreach (var (queue, limit) in _limits)
            {
                if (_buffered[queue] == 0 || (_running[queue] < limit && _runningTotal < _capacity)) continue;
                if (_lastProgress.TryGetValue(queue, out var at) && _time.GetElapsedTime(at, now) <= StaleAfter) continue;
                stale.AddRange(_buffer.Where(j => j.Queue == queue));
                _buffer.RemoveAll(j => j.Queue == queue);
                _buffered[queue] = 0;
            }
        }
        return stale;
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

/// <summary>One claim to make.</summary>
/// <param name="Demands">Per queue, how many jobs to ask for.</param>
/// <param name="Wanted">Their sum; 0 when no claim is worth making now.</param>
/// <param name="MayWait">True when every queue is asked for all it can take: if the coordinator has nothing, the
/// worker has nothing to do but wait for new work (a long poll). False while a queue is full: its slots free soon.</param>
/// <param name="Recheck">With nothing to claim, how long to wait for a slot to free before planning again.</param>
internal sealed record ClaimPlan(IReadOnlyList<QueueDemand> Demands, int Wanted, bool MayWait, TimeSpan Recheck);
