using Gantry.Worker.Handlers.Process;

namespace Gantry.Worker.Coordination;

/// <summary>
/// When the leases a worker (or a node) holds were last renewed, and whether they are about to run
/// out: the coordinator hands an expired lease's job to another worker, so an attempt that cannot
/// be renewed must be stopped, and its processes dead, before that. A renewal counts from the
/// moment its request was sent (the coordinator extended the lease no earlier), and the stop comes
/// <see cref="Margin"/> before the lease ends: the kill grace of a process handler's tree, plus an
/// allowance for the clocks of the machines involved. Thread-safe.
/// </summary>
internal sealed class LeaseGuard(TimeSpan lease, TimeProvider time)
{
    /// <summary>How far apart the clocks of the worker and the coordinator's machines are allowed to be.</summary>
    public static readonly TimeSpan ClockErrorAllowance = TimeSpan.FromSeconds(1);

    /// <summary>Between the stop and the lease's end: the attempt's tree is killed within the first part, the rest covers the clocks.</summary>
    public static TimeSpan Margin => ProcessJobRunner.KillGrace + ClockErrorAllowance;

    /// <summary>The least heartbeat interval derived from a lease (<see cref="HeartbeatFor"/>).</summary>
    public static readonly TimeSpan HeartbeatFloor = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The shortest lease that leaves a heartbeat every <paramref name="heartbeat"/> time to renew it before the stop.
    /// <paramref name="heartbeats"/> is 1 for a worker; 2 for a node, which stops its workers' attempts one heartbeat
    /// sooner, as they hear of it at their next one.
    /// </summary>
    public static TimeSpan ShortestLease(TimeSpan heartbeat, int heartbeats = 1) => heartbeat * heartbeats + Margin;

    /// <summary>
    /// The heartbeat interval when none is given: the rule of <see cref="ShortestLease"/> with room for three
    /// renewals before the stop, at most <paramref name="longest"/> (the usual default), at least <see cref="HeartbeatFloor"/>.
    /// </summary>
    public static TimeSpan HeartbeatFor(TimeSpan lease, int heartbeats, TimeSpan longest)
    {
        var derived = (lease - Margin) / (heartbeats + 2);
        var ms = Math.Floor(derived.TotalMilliseconds); // whole milliseconds: passed on to managed workers as such
        return TimeSpan.FromMilliseconds(Math.Clamp(ms, HeartbeatFloor.TotalMilliseconds, longest.TotalMilliseconds));
    }

    /// <summary>Why <paramref name="lease"/> is too short for <paramref name="heartbeat"/> (see <see cref="ShortestLease"/>), or null when it is not.</summary>
    public static string? TooShort(TimeSpan lease, TimeSpan heartbeat, int heartbeats, bool derived)
    {
        if (lease >= ShortestLease(heartbeat, heartbeats)) return null;
        var times = heartbeats switch { 1 => "", 2 => "twice ", _ => $"{heartbeats} times " };
        var which = derived ? $"{heartbeat.TotalSeconds}s, the least derived from a lease" : $"{heartbeat.TotalSeconds}s";
        return $"({lease.TotalSeconds}s) must be at least {times}the heartbeat interval ({which}) plus {Margin.TotalSeconds}s (the kill grace and clock allowance by which unrenewed attempts stop before their leases end)";
    }

    private long _renewedAt = time.GetTimestamp();

    /// <summary>Taken just before a renewal (heartbeat) is sent; passed to <see cref="Renewed"/> when it succeeds.</summary>
    public long Now() => time.GetTimestamp();

    public void Renewed(long sentAt)
    {
        var last = Interlocked.Read(ref _renewedAt);
        while (sentAt > last)
        {
            var seen = Interlocked.CompareExchange(ref _renewedAt, sentAt, last);
            if (seen == last) return;
            last = seen;
        }
    }

    /// <summary>Since the last renewal.</summary>
    public TimeSpan Unrenewed => time.GetElapsedTime(Interlocked.Read(ref _renewedAt));

    /// <summary>True once the leases are within <see cref="Margin"/> of their end: what runs under them must stop now.</summary>
    public bool Expiring => Unrenewed >= lease - Margin;
}
