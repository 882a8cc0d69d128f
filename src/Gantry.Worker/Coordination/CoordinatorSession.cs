using Gantry.Storage;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;
using Gantry.Time;

namespace Gantry.Worker.Coordination;

/// <summary>
/// One worker's or one node's standing with its coordinator, over its <see cref="IWorkerLink"/>: it registers (waiting
/// out a coordinator that is down) and registers again when its owner's offer changes or a registration failed;
/// claims, and holds every attempt a claim returns until its outcome is written (<see cref="HeldJobs"/>); heartbeats
/// with the held attempts and the claims taken in, renewing their leases; takes commands and applies them through its
/// <see cref="ISessionOwner"/>; writes reports in groups (<see cref="ReportBatcher"/>); and has the owner stop every
/// attempt when the leases cannot be renewed before they run out (<see cref="LeaseGuard"/>).
/// </summary>
/// <remarks>Each loop's single run (<see cref="HeartbeatAsync"/>, <see cref="TakeCommandsAsync"/>,
/// <see cref="GuardLeases"/>) can be called on its own, as tests on a fake clock do.</remarks>
internal sealed class CoordinatorSession : IDisposable
{
    /// <summary>How often an idle owner (holding nothing) looks for commands: only drain, pause and resume can come for it.</summary>
    public static readonly TimeSpan IdleCommandPollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LeaseGuardTick = TimeSpan.FromMilliseconds(100);

    private readonly SessionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LeaseGuard _leases;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private ISessionOwner? _owner;
    private WorkerRegistration? _unregistered;
    private volatile bool _registered;
    private int _disposed;

    public CoordinatorSession(IWorkerLink link, SessionOptions options, ILogger logger, TimeProvider time)
    {
        Link = link;
        _options = options;
        _logger = logger;
        _time = time;
        Outage = new LinkOutage(logger, time);
        _leases = new LeaseGuard(options.GuardedLease, time);
        Reports = new ReportBatcher(link, Held, logger, time, Outage, options.MaxReportBatch, options.LogStaleReports);
    }

    public IWorkerLink Link { get; }

    /// <summary>The attempts the owner holds, as its heartbeat names them: from their claim until their outcome is written.</summary>
    public HeldJobs Held { get; } = new();

    /// <summary>Logs an outage of <see cref="Link"/> once, and its end; down from a failed call until the next that succeeds.</summary>
    public LinkOutage Outage { get; }

    /// <summary>Where the owner's reports go; written in groups.</summary>
    public ReportBatcher Reports { get; }

    /// <summary>True once the first registration succeeded.</summary>
    public bool IsRegistered => _registered;

    /// <summary>Since the coordinator last renewed the leases (the registration or the last heartbeat).</summary>
    public TimeSpan HeartbeatAge => _leases.Unrenewed;

    /// <summary>
    /// Registers the owner. A coordinator that is down now (a database restarting) is waited for, with backoff; a
    /// refusal is not. Claims from now on lease from now on.
    /// </summary>
    public async Task RegisterAsync(WorkerRegistration registration, CancellationToken ct)
    {
        for (var delay = TimeSpan.FromMilliseconds(200); ; delay = RetryPause.After(delay))
        {
            try
            {
                await Link.RegisterAsync(registration, ct).ConfigureAwait(false);
                Outage.Ok();
                _registered = true;
                break;
            }
            catch (StoreUnavailableException ex)
            {
                Outage.Failed("register", ex);
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
        }
        _leases.Renewed(_leases.Now());
    }

    /// <summary>Starts writing reports, heartbeats, taking commands and guarding the leases, for <paramref name="owner"/>.</summary>
    public void Start(ISessionOwner owner)
    {
        Attach(owner);
        // Reports are written until every one queued is, however long the coordinator is down: StopAsync only stops
        // waiting for them. (An uncancellable token also keeps the store's write lock handed straight to the writer.)
        Reports.Start(CancellationToken.None);
        _loops.Add(Task.Run(() => HeartbeatLoopAsync(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => CommandLoopAsync(_stop.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => LeaseGuardLoopAsync(_stop.Token), CancellationToken.None));
    }

    /// <summary>Sets the owner the single runs apply to, without starting the loops (tests call the runs themselves).</summary>
    internal void Attach(ISessionOwner owner) => _owner = owner;

    /// <summary>Claims under the owner's lease; what the claim returns is held from now on.</summary>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct)
    {
        var jobs = await Link.ClaimAsync(p, mayWait, ct).ConfigureAwait(false);
        Held.Claimed(jobs);
        Outage.Ok();
        return jobs;
    }

    /// <summary>
    /// Writes every pending report (heartbeats go on meanwhile, so the leases of what waits in them do not run out),
    /// then stops the loops and deregisters. <paramref name="ct"/> cuts it short.
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await Reports.CompleteAsync(ct).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        try
        {
            await Link.DeregisterAsync(_options.Id, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SessionLog.LinkError(_logger, "deregister", ex.Message);
        }
    }

    /// <summary>
    /// One heartbeat: registers again first when needed (see <see cref="ISessionOwner.Reregistration"/>), then renews
    /// the leases of the held attempts, takes the claims named in as known, applies the commands that came with it and
    /// has the owner stop the attempts the coordinator says are no longer its own. A failure is logged; the next
    /// heartbeat tries again.
    /// </summary>
    internal async Task HeartbeatAsync(CancellationToken ct)
    {
        var owner = Owner;
        try
        {
            await ReregisterAsync(owner, ct).ConfigureAwait(false);
            var (held, claims) = Held.Snapshot();
            var sentAt = _leases.Now();
            var result = await Link.HeartbeatAsync(new WorkerHeartbeatParams(_options.Id, _options.LeaseDuration, held, owner.Managed(), claims), ct).ConfigureAwait(false);
            _leases.Renewed(sentAt);
            Held.Confirmed(claims);
            Outage.Ok();
            Apply(result.Commands);
            foreach (var lost in result.LostJobs)
            {
                Held.Release(lost);
                owner.Lose(lost);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Outage.Failed("heartbeat", ex);
        }
    }

    /// <summary>Sends the owner's new registration, or the last one that failed; a failure leaves it for the next heartbeat.</summary>
    private async Task ReregisterAsync(ISessionOwner owner, CancellationToken ct)
    {
        // A newer registration replaces one still unsent.
        var registration = owner.Reregistration() ?? _unregistered;
        if (registration is null) return;
        _unregistered = registration;
        try
        {
            await Link.RegisterAsync(registration, ct).ConfigureAwait(false);
            _unregistered = null;
            Outage.Ok();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Outage.Failed("register", ex);
        }
    }

    /// <summary>
    /// Waits for commands (with a link that signals them, until they come) and applies them. A busy owner looks every
    /// <see cref="SessionOptions.CommandPollInterval"/>, so that cancels land at once; an idle one every
    /// <see cref="IdleCommandPollInterval"/>.
    /// </summary>
    internal async Task TakeCommandsAsync(CancellationToken ct)
    {
        var idle = Held.Count == 0;
        await Link.WaitForCommandsAsync(idle ? IdleCommandPollInterval : _options.CommandPollInterval, ct).ConfigureAwait(false);
        Apply(await Link.TakeCommandsAsync(_options.Id, ct).ConfigureAwait(false));
        Outage.Ok();
    }

    /// <summary>Once the leases are about to run out unrenewed, has the owner stop every attempt it holds (see <see cref="LeaseGuard"/>).</summary>
    internal void GuardLeases()
    {
        if (!_leases.Expiring || Held.Count == 0) return;
        foreach (var lease in Owner.StopUnrenewed(_leases.Unrenewed)) Held.Release(lease);
    }

    private void Apply(IReadOnlyList<WorkerCommand> commands)
    {
        var owner = Owner;
        foreach (var command in commands)
        {
            switch (command.Kind)
            {
                case WorkerCommandKind.Pause: owner.Pause(); break;
                case WorkerCommandKind.Resume: owner.Resume(); break;
                case WorkerCommandKind.Drain: owner.Drain(); break;
                case WorkerCommandKind.Shutdown: owner.Shutdown(); break;
                case WorkerCommandKind.CancelJob or WorkerCommandKind.CancelJobNow when command.JobId is { } id:
                    owner.Cancel(id, now: command.Kind == WorkerCommandKind.CancelJobNow);
                    break;
            }
        }
    }

    private ISessionOwner Owner => _owner ?? throw new InvalidOperationException("the session is not started");

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) await HeartbeatAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task CommandLoopAsync(CancellationToken ct)
    {
        var errorDelay = TimeSpan.Zero;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await TakeCommandsAsync(ct).ConfigureAwait(false);
                errorDelay = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Backs off while the coordinator is unreachable, so an outage is not logged four times a second.
                errorDelay = errorDelay == TimeSpan.Zero ? _options.CommandPollInterval : RetryPause.After(errorDelay);
                Outage.Failed("commands", ex);
                try { await Task.Delay(errorDelay, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
            }
        }
    }

    private async Task LeaseGuardLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(LeaseGuardTick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) GuardLeases();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Ends what <see cref="StopAsync"/> left running when it was cut short.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        _stop.Dispose();
    }
}
