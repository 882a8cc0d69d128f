using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Execution;

/// <summary>
/// The worker runtime: claims jobs up to its free capacity, runs each handler in its own task,
/// reports outcomes in batches, renews its leases and obeys control commands. It is the same
/// whatever its <see cref="IWorkerLink"/> is. Shutdown is two-phase: first stop claiming and let
/// running jobs finish (<see cref="WorkerOptions.DrainTimeout"/>), then cancel the rest and give
/// them back to the queue without counting the attempt.
/// </summary>
public sealed class GantryWorker : IAsyncDisposable
{
    private readonly IWorkerLink _link;
    private readonly WorkerOptions _options;
    private readonly HandlerRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly JsonSerializerOptions _json;
    private readonly ReportSink _reports;
    private readonly ConcurrentDictionary<Guid, (WorkerJobContext Context, Task Task)> _running = new();
    private readonly ConcurrentDictionary<string, ILogger> _jobLoggers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _runningPerQueue = new(StringComparer.Ordinal);
    private readonly AsyncSignal _slotFreed = new();
    private readonly CancellationTokenSource _fetchCts = new();
    private readonly CancellationTokenSource _stopCts = new();
    private readonly string[] _jobTypes;
    private readonly int _capacity;
    private int _runningTotal;
    private Task _fetchLoop = Task.CompletedTask;
    private Task _heartbeatLoop = Task.CompletedTask;
    private Task _commandLoop = Task.CompletedTask;
    private int _started, _stopped;

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
        _reports = new ReportSink(link, _logger, _time);
        _jobTypes = _registry.JobTypes.Order(StringComparer.Ordinal).ToArray();
        _capacity = options.EffectiveCapacity;
        foreach (var queue in options.Queues.Keys) _runningPerQueue[queue] = 0;
    }

    public string Id => _options.WorkerId;
    public WorkerOptions Options => _options;
    public IReadOnlyList<string> JobTypes => _jobTypes;

    /// <summary>Jobs running now.</summary>
    public int RunningCount => Volatile.Read(ref _runningTotal);

    /// <summary>Registers the worker and starts claiming.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) throw new InvalidOperationException("the worker is already started");
        await _link.RegisterAsync(new WorkerRegistration
        {
            Id = Id,
            Host = Dns.GetHostName(),
            ProcessId = Environment.ProcessId,
            Version = typeof(GantryWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Queues = _options.Queues,
            Capacity = _capacity,
            JobTypes = _jobTypes,
            Capabilities = _options.Capabilities,
            Tags = _options.Tags,
        }, ct).ConfigureAwait(false);
        _reports.Start();
        _fetchLoop = Task.Run(() => FetchLoopAsync(_fetchCts.Token), CancellationToken.None);
        _heartbeatLoop = Task.Run(() => HeartbeatLoopAsync(_stopCts.Token), CancellationToken.None);
        _commandLoop = Task.Run(() => CommandLoopAsync(_stopCts.Token), CancellationToken.None);
        WorkerLog.Started(_logger, Id, _link.Description, string.Join(",", _options.Queues.Select(q => $"{q.Key}:{q.Value}")), _capacity);
    }

    /// <summary>
    /// Stops claiming, waits up to the drain timeout for running jobs, cancels and requeues the
    /// rest, writes every pending report and deregisters. <paramref name="ct"/> cuts it short.
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (_started == 0 || Interlocked.Exchange(ref _stopped, 1) == 1) return;
        _fetchCts.Cancel();
        await _fetchLoop.ConfigureAwait(false);

        if (!_running.IsEmpty)
        {
            WorkerLog.Draining(_logger, Id, _options.DrainTimeout.TotalSeconds, _running.Count);
            if (!await WaitForRunningAsync(_options.DrainTimeout, ct).ConfigureAwait(false))
            {
                WorkerLog.DrainTimedOut(_logger, _running.Count);
                foreach (var (context, _) in _running.Values) context.Cancel(CancelReason.Shutdown);
                // Each execution gives up on its handler after the grace period, so this ends.
                await WaitForRunningAsync(_options.CancelGracePeriod + TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }

        _stopCts.Cancel();
        await Task.WhenAll(_heartbeatLoop, _commandLoop).ConfigureAwait(false);
        await _reports.CompleteAsync(ct).ConfigureAwait(false);
        try
        {
            await _link.DeregisterAsync(Id, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            WorkerLog.LinkError(_logger, ex, "deregister", 0);
        }
        WorkerLog.Stopped(_logger, Id);
    }

    private async Task<bool> WaitForRunningAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(_running.Values.Select(r => r.Task)).WaitAsync(timeout, _time, ct).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return _running.IsEmpty;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _fetchCts.Dispose();
        _stopCts.Dispose();
    }

    // ---- claiming -------------------------------------------------------------------------

    private async Task FetchLoopAsync(CancellationToken ct)
    {
        var errorDelay = TimeSpan.FromMilliseconds(100);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var demands = FreeSlots(out var wanted);
                if (wanted == 0)
                {
                    await _slotFreed.WaitAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                    continue;
                }
                var jobs = await _link.ClaimAsync(
                    new JobClaimParams(Id, demands, _options.LeaseDuration, _options.Capabilities, _jobTypes), ct).ConfigureAwait(false);
                errorDelay = TimeSpan.FromMilliseconds(100);
                foreach (var job in jobs) Start(job);
                // Fewer than asked for: the queues are drained; sleep until new work is signalled or the poll interval passes.
                if (jobs.Count < wanted) await _link.WaitForJobsAsync(_options.PollInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                WorkerLog.LinkError(_logger, ex, "claim", errorDelay.TotalSeconds);
                try { await Task.Delay(errorDelay, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                errorDelay = TimeSpan.FromTicks(Math.Min(errorDelay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    /// <summary>What each queue may still take: its own limit, bounded by what is left of the total capacity.</summary>
    private List<QueueDemand> FreeSlots(out int wanted)
    {
        var demands = new List<QueueDemand>(_runningPerQueue.Count);
        wanted = 0;
        lock (_runningPerQueue)
        {
            var left = _capacity - _runningTotal;
            foreach (var (queue, limit) in _options.Queues)
            {
                var take = Math.Min(limit - _runningPerQueue[queue], left - wanted);
                if (take <= 0) continue;
                demands.Add(new QueueDemand(queue, take));
                wanted += take;
            }
        }
        return demands;
    }

    private void Start(ClaimedJob job)
    {
        lock (_runningPerQueue)
        {
            _runningPerQueue[job.Queue] = _runningPerQueue.GetValueOrDefault(job.Queue) + 1;
            _runningTotal++;
        }
        var logger = _jobLoggers.GetOrAdd(job.Type, t => _loggers.CreateLogger($"Gantry.Jobs.{t}"));
        var context = new WorkerJobContext(job, logger, _reports.Add, _time, _options.ProgressInterval);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(async () =>
        {
            await started.Task.ConfigureAwait(false);
            await RunAsync(context).ConfigureAwait(false);
        });
        _running[job.Id] = (context, task);
        started.SetResult();
    }

    private async Task RunAsync(WorkerJobContext context)
    {
        var abandoned = false;
        try
        {
            var (report, wasAbandoned) = await ExecuteAsync(context).ConfigureAwait(false);
            abandoned = wasAbandoned;
            context.Finish();
            if (report is not null) _reports.Add(report);
        }
        finally
        {
            _running.TryRemove(context.JobId, out _);
            lock (_runningPerQueue)
            {
                _runningPerQueue[context.Queue]--;
                _runningTotal--;
            }
            _slotFreed.Set();
            // An abandoned handler may still touch its context; leave it to the GC.
            if (!abandoned) context.Dispose();
        }
    }

    // ---- running one attempt --------------------------------------------------------------

    private async Task<(JobReport? Report, bool Abandoned)> ExecuteAsync(WorkerJobContext context)
    {
        var job = context.Job;
        if (!_registry.TryGet(job.Type, out var handler))
        {
            WorkerLog.NoHandler(_logger, job.Type, job.Id, string.Join(", ", _jobTypes));
            return (Failure(context, new JobError(JobErrorKinds.Exception, $"worker {Id} has no handler for job type '{job.Type}'"), retryable: true), false);
        }
        if ((job.Timeout ?? _options.DefaultJobTimeout) is { } timeout) context.CancelAfter(timeout);

        var handlerTask = InvokeAsync(handler, context);
        var gaveUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onCancel = context.CancellationToken.UnsafeRegister(static state =>
        {
            var (gaveUp, grace, time) = ((TaskCompletionSource, TimeSpan, TimeProvider))state!;
            _ = Task.Delay(grace, time).ContinueWith(_ => gaveUp.TrySetResult(), TaskScheduler.Default);
        }, (gaveUp, _options.CancelGracePeriod, _time)).ConfigureAwait(false);

        if (await Task.WhenAny(handlerTask, gaveUp.Task).ConfigureAwait(false) == handlerTask)
        {
            try
            {
                var result = await handlerTask.ConfigureAwait(false);
                return (new JobSucceededReport(job.Id, job.Attempt, job.WorkerId, result), false);
            }
            catch (Exception ex)
            {
                return (Ended(context, ex), false);
            }
        }
        WorkerLog.HandlerAbandoned(_logger, job.Id, job.Attempt, context.CancelReason.ToString(), _options.CancelGracePeriod.TotalSeconds);
        _ = handlerTask.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        return (Ended(context, null), true);
    }

    private async Task<string?> InvokeAsync(HandlerRegistration handler, WorkerJobContext context)
    {
        await using var scope = _services.CreateAsyncScope();
        return await handler.Invoke(scope.ServiceProvider, context, _json).ConfigureAwait(false);
    }

    /// <summary>The report for an attempt that did not return: by why it was cancelled, else by its exception.</summary>
    private JobReport? Ended(WorkerJobContext context, Exception? ex)
    {
        var job = context.Job;
        switch (context.CancelReason)
        {
            case CancelReason.UserCancelled:
                return new JobCancelledReport(job.Id, job.Attempt, job.WorkerId);
            case CancelReason.Shutdown:
                return new JobRequeuedReport(job.Id, job.Attempt, job.WorkerId);
            case CancelReason.LeaseLost:
                return null; // Not ours any more: another attempt owns the outcome.
            case CancelReason.Timeout:
                var timeout = job.Timeout ?? _options.DefaultJobTimeout ?? TimeSpan.Zero;
                var how = ex is null ? $"; the handler ignored cancellation for {_options.CancelGracePeriod.TotalSeconds:0.#}s and was abandoned" : "";
                return Failure(context, new JobError(JobErrorKinds.Timeout, $"timed out after {timeout.TotalSeconds:0.###}s{how}"), retryable: true);
            default:
                var error = ex is null ? new JobError(JobErrorKinds.Exception, "the handler did not finish") : JobError.FromException(ex);
                WorkerLog.JobFailed(_logger, job.Id, job.Attempt, error.Message);
                return Failure(context, error, retryable: ex is not PayloadMismatchException);
        }
    }

    private JobFailedReport Failure(WorkerJobContext context, JobError error, bool retryable)
    {
        var job = context.Job;
        var (next, runAt) = RetryPolicy.AfterFailure(job.Attempt, job.MaxAttempts, job.Backoff, _time.GetUtcNow(), Random.Shared, retryable);
        return new JobFailedReport(job.Id, job.Attempt, job.WorkerId, error, next, runAt);
    }

    // ---- heartbeat and control ------------------------------------------------------------

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    var commands = await _link.HeartbeatAsync(new WorkerHeartbeatParams(Id, _options.LeaseDuration, RunningCount), ct).ConfigureAwait(false);
                    Apply(commands);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    WorkerLog.LinkError(_logger, ex, "heartbeat", _options.HeartbeatInterval.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task CommandLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _link.WaitForCommandsAsync(_options.CommandPollInterval, ct).ConfigureAwait(false);
                // Commands are about running jobs; with none running, the heartbeat collects stale ones.
                if (_running.IsEmpty) continue;
                Apply(await _link.TakeCommandsAsync(Id, ct).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                WorkerLog.LinkError(_logger, ex, "commands", _options.CommandPollInterval.TotalSeconds);
                try { await Task.Delay(_options.CommandPollInterval, _time, ct).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
            }
        }
    }

    private void Apply(IReadOnlyList<WorkerCommand> commands)
    {
        foreach (var command in commands)
        {
            if (command is { Kind: WorkerCommandKind.CancelJob, JobId: { } id } && _running.TryGetValue(id, out var running))
            {
                WorkerLog.CancelRequested(_logger, id);
                running.Context.Cancel(CancelReason.UserCancelled);
            }
        }
    }
}
