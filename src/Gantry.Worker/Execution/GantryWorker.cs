using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Serialization;
using Gantry.Storage;
using Gantry.Worker.Coordination;
using Gantry.Worker.Handlers;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Gantry.Time;

namespace Gantry.Worker.Execution;

/// <summary>
/// The worker runtime: claims jobs (a little ahead of its free slots when jobs are short), runs
/// each handler in its own task, reports outcomes in batches, renews its leases and obeys control
/// commands. It is the same whatever its <see cref="IWorkerLink"/> is, and keeps in touch with its coordinator
/// through a <see cref="CoordinatorSession"/>, as a node does. Shutdown is two-phase:
/// first stop claiming and let running jobs finish (<see cref="WorkerOptions.DrainTimeout"/>),
/// then cancel the rest and give them back to the queue without counting the attempt.
/// </summary>
/// <remarks>Split by concern: claiming (<c>GantryWorker.Claiming.cs</c>), running one attempt
/// (<c>GantryWorker.Attempt.cs</c>), the commands its session applies (<c>GantryWorker.Control.cs</c>).</remarks>
public sealed partial class GantryWorker : IAsyncDisposable
{
    private readonly IWorkerLink _link;
    private readonly WorkerOptions _options;
    private readonly HandlerRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly JsonSerializerOptions _json;
    /// <summary>Registration, heartbeats, commands, held attempts and report writing.</summary>
    private readonly CoordinatorSession _session;
    private readonly ReportBatcher _reports;
    private readonly JobSlots _slots;
    private readonly RunTally _tally;
    private readonly RunningAttempts _running = new();
    /// <summary>Per job type: its handler and what its attempts share, found on its first attempt.</summary>
    private readonly ConcurrentDictionary<string, JobHandling> _handling = new(StringComparer.Ordinal);
    private readonly AsyncSignal _slotFreed = new();
    private readonly CancellationTokenSource _fetchCts = new();
    /// <summary>Cancelled by <see cref="StopNow"/>: ends a drain (in progress or to come) at once.</summary>
    private readonly CancellationTokenSource _drainCut = new();
    private readonly string[] _jobTypes;
    /// <summary>Set by the pause and resume commands (<c>GantryWorker.Control.cs</c>); while set the claim loop
    /// (<c>GantryWorker.Claiming.cs</c>) claims nothing.</summary>
    private volatile bool _paused;
    /// <summary>Cancels that named a job not yet known here (the claim still on its way), kept by the command handling
    /// (<c>GantryWorker.Control.cs</c>) and applied by the claim loop when the job arrives.</summary>
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _earlyCancels = new();
    private static readonly TimeSpan EarlyCancelMemory = TimeSpan.FromMinutes(1);
    private Task _fetchLoop = Task.CompletedTask;
    private int _started;
    private readonly Lock _stopLock = new();
    private Task? _stop;
    private ITimer? _drainCutTimer;

    /// <summary>A worker that reaches its coordinator through <paramref name="link"/> and runs the handlers registered in
    /// <paramref name="services"/>; <paramref name="options"/> are validated here (<see cref="InvalidInputException"/>).</summary>
    /// <param name="json">How payloads and results of handlers registered without type information are read and written; <c>GantryPayloadJson.Default</c> when null.</param>
    public GantryWorker(IWorkerLink link, WorkerOptions options, IServiceProvider services,
        ILoggerFactory? loggers = null, TimeProvider? time = null, JsonSerializerOptions? json = null)
    {
        options.Validate();
        _link = link;
        _options = options;
        _services = services;
        _registry = services.GetRequiredService<HandlerRegistry>();
        _loggers = loggers ?? services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger("Gantry.Worker");
        _time = time ?? TimeProvider.System;
        _json = json ?? GantryPayloadJson.Default;
        _session = new CoordinatorSession(link, new SessionOptions
        {
            Id = options.WorkerId,
            LeaseDuration = options.LeaseDuration,
            HeartbeatInterval = options.EffectiveHeartbeatInterval,
            CommandPollInterval = options.CommandPollInterval,
            GuardedLease = options.LeaseDuration,
        }, _logger, _time);
        _reports = _session.Reports;
        _jobTypes = _registry.JobTypes.Order(StringComparer.Ordinal).ToArray();
        _tally = new RunTally(_time);
        _slots = new JobSlots(options.Queues, options.EffectiveCapacity, options.MaxPrefetch, options.PollInterval, _time);
        _reports.AttemptsWritten = SlotsWritten;
    }

    /// <summary>The worker's id: <see cref="WorkerOptions.WorkerId"/>.</summary>
    public string Id => _options.WorkerId;
    /// <summary>The options the worker was made with, validated.</summary>
    public WorkerOptions Options => _options;
    /// <summary>The job types the worker serves (its registered handlers), as it registers them.</summary>
    public IReadOnlyList<string> JobTypes => _jobTypes;

    /// <summary>
    /// Where the worker is: <c>not started</c>, <c>running</c>, <c>paused</c> (by command: claiming nothing), <c>draining</c>
    /// (stopping: running jobs finish or are requeued) or <c>stopped</c>. For health checks and status pages.
    /// </summary>
    public string Status
    {
        get
        {
            if (Volatile.Read(ref _started) == 0) return "not started";
            var stop = Volatile.Read(ref _stop);
            if (stop is not null) return stop.IsCompleted ? "stopped" : "draining";
            return _paused ? "paused" : "running";
        }
    }

    /// <summary>Ready for work (<c>/health/ready</c>): registered, its coordinator reachable (its last call to it
    /// succeeded) and not draining or stopped. A paused worker is ready: it is there, and resumes on command.</summary>
    public bool IsReady => _session.IsRegistered && !_session.Outage.IsDown && Status is "running" or "paused";

    /// <summary>Attempts whose lease the worker holds: running, buffered, or with an outcome not yet written.</summary>
    public int HeldLeases => _session.Held.Count;

    /// <summary>Since the coordinator last renewed the worker's leases (its registration or last heartbeat).</summary>
    public TimeSpan HeartbeatAge => _session.HeartbeatAge;

    /// <summary>What the worker ran since it was made, by outcome.</summary>
    internal RunTally Tally => _tally;

    /// <summary>Jobs running now.</summary>
    public int RunningCount => _slots.Running;

    /// <summary>Registers the worker and starts claiming.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) throw new InvalidOperationException("the worker is already started");
        var registration = new WorkerRegistration
        {
            Id = Id,
            Name = _options.Name,
            Host = Dns.GetHostName(),
            ProcessId = Environment.ProcessId,
            Version = typeof(GantryWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Queues = _options.Queues,
            Capacity = _options.EffectiveCapacity,
            JobTypes = _jobTypes,
            Capabilities = _options.Capabilities,
            Tags = _options.Tags,
            HeartbeatIntervalSeconds = _options.EffectiveHeartbeatInterval.TotalSeconds,
        };
        await _session.RegisterAsync(registration, ct).ConfigureAwait(false);
        _session.Start(this);
        _fetchLoop = Task.Run(() => FetchLoopAsync(_fetchCts.Token), CancellationToken.None);
        WorkerLog.Started(_logger, Id, _link.Description, string.Join(",", _options.Queues.Select(q => $"{q.Key}:{q.Value}")), _options.EffectiveCapacity);
    }

    /// <summary>
    /// Stops claiming, gives back prefetched jobs, waits up to the drain timeout for running jobs,
    /// cancels and requeues the rest, writes every pending report and deregisters.
    /// <paramref name="ct"/> cuts it short.
    /// </summary>
    public Task StopAsync(CancellationToken ct) => StopAsync(_options.DrainTimeout, ct);

    /// <summary>
    /// Cuts the drain of a stop short, whether it is under way or still to come (a second Ctrl-C): running jobs are
    /// cancelled and requeued at once, as when the drain timeout passes. A requeue does not count as an attempt, and
    /// each job's checkpoint stays, so the next attempt resumes from it.
    /// </summary>
    public void StopNow() => _drainCut.Cancel();

    /// <summary>The same, with a drain timeout of its own: <see cref="TimeSpan.Zero"/> requeues running jobs at once.</summary>
    /// <remarks>A stop already under way (a drain by command) is waited for, its drain ended <paramref name="drainTimeout"/> from now at the latest.</remarks>
    public Task StopAsync(TimeSpan drainTimeout, CancellationToken ct)
    {
        if (_started == 0) return Task.CompletedTask;
        lock (_stopLock)
        {
            if (_stop is null) return _stop = StopOnceAsync(drainTimeout, ct);
            _drainCutTimer ??= _time.CreateTimer(_ => StopNow(), null, drainTimeout, Timeout.InfiniteTimeSpan);
            return _stop.WaitAsync(ct);
        }
    }

    private async Task StopOnceAsync(TimeSpan drainTimeout, CancellationToken ct)
    {
        _fetchCts.Cancel();
        await _fetchLoop.ConfigureAwait(false);
        foreach (var job in _slots.TakeBuffered())
        {
            _reports.Add(new JobRequeuedReport(job.Id, job.Attempt, job.WorkerId));
            _tally.Add("requeued");
        }

        if (!_running.IsEmpty)
        {
            WorkerLog.Draining(_logger, Id, drainTimeout.TotalSeconds, _running.Count);
            if (!await WaitForRunningAsync(drainTimeout, ct, _drainCut.Token).ConfigureAwait(false))
            {
                WorkerLog.DrainTimedOut(_logger, _running.Count);
                foreach (var attempt in _running.Values) attempt.Context.Cancel(CancelReason.Shutdown);
                // Each attempt gives up on its handler after the grace period, so this ends.
                await WaitForRunningAsync(_options.CancelGracePeriod + TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }

        await _session.StopAsync(ct).ConfigureAwait(false);
        WorkerLog.Stopped(_logger, Id, _tally.Succeeded, _tally.Failed, _tally.Cancelled, _tally.Requeued, RunTally.Format(_tally.Uptime));
    }

    private async Task<bool> WaitForRunningAsync(TimeSpan timeout, CancellationToken ct, CancellationToken cut = default)
    {
        try
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, cut);
            await Task.WhenAll(_running.Values.Select(r => r.Done)).WaitAsync(timeout, _time, either.Token).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return _running.IsEmpty;
        }
        catch (OperationCanceledException) when (cut.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return _running.IsEmpty;
        }
    }

    /// <summary>Stops the worker if it is running (as <see cref="StopAsync(CancellationToken)"/>) and frees what it holds.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _drainCutTimer?.Dispose();
        _fetchCts.Dispose();
        _session.Dispose();
        _drainCut.Dispose();
    }
}
