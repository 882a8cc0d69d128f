using Gantry.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Leadership;

/// <summary>
/// Runs a set of services (the maintenance services) in exactly one process per store at a time.
/// Every <see cref="LeaderOptions.ElectInterval"/> it asks the store to elect it, or to confirm it
/// still leads; it starts a fresh instance of each service when it becomes leader and stops them
/// when it is no longer leader, or when it has not been able to confirm that within the ttl. See
/// README.md beside this file for the failure cases.
/// </summary>
public sealed class LeaderHost : ResilientService
{
    private readonly IJobStore _store;
    private readonly LeaderOptions _options;
    private readonly LeaderServices _services;
    private readonly IServiceProvider _provider;
    private static readonly TimeSpan MaxStandbyBackoff = TimeSpan.FromSeconds(10);
    private List<IHostedService>? _term;
    private DateTimeOffset _confirmedAt;
    private volatile bool _leads;
    /// <summary>Failed rounds in a row: a standby's backoff.</summary>
    private int _failures;
    private bool _standbyLogged;

    /// <summary>Made by <see cref="Microsoft.Extensions.DependencyInjection.LeaderElectedMaintenanceServiceCollectionExtensions.AddGantryLeaderElectedMaintenance"/>,
    /// which also gives it the set of services to run.</summary>
    internal LeaderHost(IJobStore store, LeaderOptions options, LeaderServices services, IServiceProvider provider, ILogger<LeaderHost> logger, TimeProvider time)
        : base(logger, time)
    {
        _store = store;
        _options = options;
        _services = services;
        _provider = provider;
    }

    /// <summary>True while this process runs the services.</summary>
    public bool IsLeader => _leads;

    /// <summary>This process's name in the election (<see cref="LeaderOptions.HolderId"/>).</summary>
    public string HolderId => _options.HolderId;

    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try { wait = await ElectOnceAsync(stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            try { await Task.Delay(wait, Time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>
    /// One round: asks the store to elect this process or confirm it leads, and starts or stops the services
    /// accordingly; a failing store is logged and, past the ttl, ends the term. Returns how long to wait for the next round.
    /// </summary>
    internal async Task<TimeSpan> ElectOnceAsync(CancellationToken stoppingToken)
    {
        var wait = _options.ElectInterval;
        try
        {
            var leads = await _store.LeaderTryElectAsync(new LeaderElectParams(_options.Name, _options.HolderId, _options.Ttl), stoppingToken).ConfigureAwait(false);
            _failures = 0;
            if (leads)
            {
                _confirmedAt = Time.GetUtcNow();
                if (_term is null) await StartTermAsync(stoppingToken).ConfigureAwait(false);
                _standbyLogged = false;
            }
            else
            {
                if (_term is not null) await EndTermAsync("another process was elected").ConfigureAwait(false);
                if (!_standbyLogged) LeaderLog.Standby(Logger, _options.Name);
                _standbyLogged = true;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            _failures++;
            // A standby backs off; a leader keeps its pace, since it must notice within the ttl that it cannot confirm.
            if (_term is null) wait = TimeSpan.FromTicks(Math.Min(_options.ElectInterval.Ticks * _failures, MaxStandbyBackoff.Ticks));
            LeaderLog.ElectFailed(Logger, ex, _options.Name, wait.TotalSeconds);
            // Past the ttl another process may have been elected: two leaders would be harmless (every
            // maintenance change is a conditional update) but wasteful, so stand down.
            if (_term is not null && Time.GetUtcNow() - _confirmedAt >= _options.Ttl)
                await EndTermAsync("the store could not confirm it within the ttl").ConfigureAwait(false);
        }
        return wait;
    }

    /// <summary>Stops the election and, if this process leads, the services it runs, then resigns so that another process takes over at once.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_term is null) return;
        await EndTermAsync(null).ConfigureAwait(false);
        try
        {
            // Resigning hands over at once instead of after the ttl (SQLite) or the session's end (PostgreSQL).
            await _store.LeaderResignAsync(new LeaderResignParams(_options.Name, _options.HolderId), cancellationToken).ConfigureAwait(false);
            LeaderLog.Resigned(Logger, _options.Name);
        }
        catch (Exception ex)
        {
            // Resigning only hastens the hand-over (the lock goes with the session or the ttl): failing to is no reason
            // for the process to stop any other way than it was asked to.
            LeaderLog.ElectFailed(Logger, ex, _options.Name, 0);
        }
    }

    private async Task StartTermAsync(CancellationToken ct)
    {
        // Fresh instances per term: a BackgroundService is not meant to be started again after it stopped.
        var term = _services.Create(_provider);
        _term = term;
        _leads = true;
        LeaderLog.Elected(Logger, _options.Name, _options.HolderId, term.Count);
        foreach (var service in term) await service.StartAsync(ct).ConfigureAwait(false);
    }

    private async Task EndTermAsync(string? reason)
    {
        var term = _term;
        _term = null;
        _leads = false;
        if (term is null) return;
        foreach (var service in term)
        {
            await service.StopAsync(CancellationToken.None).ConfigureAwait(false);
            (service as IDisposable)?.Dispose();
        }
        if (reason is not null) LeaderLog.Lost(Logger, _options.Name, reason);
    }
}

/// <summary>The services a <see cref="LeaderHost"/> runs while it leads.</summary>
internal sealed class LeaderServices
{
    private readonly List<(Type Type, Func<IServiceProvider, IHostedService> Create)> _services = [];

    /// <summary>The service types, in the order they start.</summary>
    public IReadOnlyList<Type> Types => _services.Select(s => s.Type).ToArray();

    /// <summary>Adds <typeparamref name="T"/>, made anew from the container (constructor injection) at every term.</summary>
    public LeaderServices Add<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] T>()
        where T : IHostedService
    {
        _services.Add((typeof(T), provider => ActivatorUtilities.CreateInstance<T>(provider)));
        return this;
    }

    /// <summary>Fresh instances of every service, for one term.</summary>
    internal List<IHostedService> Create(IServiceProvider provider) => _services.Select(s => s.Create(provider)).ToList();
}
