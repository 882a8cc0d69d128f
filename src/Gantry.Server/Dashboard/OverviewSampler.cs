using Gantry.Server.Api;
using Gantry.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Dashboard;

/// <summary>
/// What <c>GET /api/v1/overview</c> and the <c>/api/v1/events</c> stream show: queue statistics and workers, read in
/// O(queues + workers) (the store's queue statistics, never the jobs), sampled every <see cref="Interval"/> and kept
/// per minute for the last hour for the dashboard's charts. A store where nothing happens (nothing queued or running,
/// no signal of a change, no viewer) is not read, so that an idle coordinator costs the database nothing more; its
/// quiet minutes have no point in the charts.
/// Samples are shared: any number of viewers cost one read per interval.
/// </summary>
internal sealed partial class OverviewSampler(IServiceProvider services, TimeProvider time, ILogger<OverviewSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    /// <summary>After a viewer asked, sampling stays at <see cref="Interval"/> for this long even on an idle store.</summary>
    public static readonly TimeSpan ViewerWindow = TimeSpan.FromMinutes(2);
    public const int Minutes = 60;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<long, OverviewPointView> _series = [];
    private OverviewSample? _last;
    private long _signals = -1;
    private long _lastDemandMs = long.MinValue / 2;

    /// <summary>The latest sample, taken now when the last one is older than <paramref name="maxAge"/>.</summary>
    public Task<OverviewSample> CurrentAsync(TimeSpan maxAge, CancellationToken ct)
    {
        Volatile.Write(ref _lastDemandMs, time.GetUtcNow().ToUnixTimeMilliseconds());
        return ReadAsync(maxAge, ct);
    }

    private async Task<OverviewSample> ReadAsync(TimeSpan maxAge, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (Volatile.Read(ref _last) is { } fresh && now - fresh.At <= maxAge) return fresh;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _last) is { } other && time.GetUtcNow() - other.At <= maxAge) return other;
            return await SampleAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The per-minute points of the last hour, oldest first.</summary>
    public IReadOnlyList<OverviewPointView> Series()
    {
        lock (_series) return _series.OrderBy(p => p.Key).Select(p => p.Value).ToArray();
    }

    private async Task<OverviewSample> SampleAsync(CancellationToken ct)
    {
        var store = services.GetRequiredService<IJobStore>();
        var now = time.GetUtcNow();
        var queues = await QueueView.ListAsync(store, now, ct).ConfigureAwait(false);
        var workers = await WorkerView.ListAsync(store, all: false, ct).ConfigureAwait(false);
        var sample = new OverviewSample(now, queues, workers);
        var minute = now.ToUnixTimeSeconds() / 60;
        lock (_series)
        {
            // The last sample of each minute stands for it: its "last minute" counts cover that minute.
            _series[minute] = new OverviewPointView(DateTimeOffset.FromUnixTimeSeconds(minute * 60),
                queues.Sum(q => q.CompletedPerMinute), queues.Sum(q => q.FailedPerMinute), queues.Max(q => q.OldestQueuedAgeSeconds) ?? 0);
            foreach (var old in _series.Keys.Where(k => k <= minute - Minutes).ToArray()) _series.Remove(old);
        }
        _signals = Signals(store);
        Volatile.Write(ref _last, sample);
        return sample;
    }

    private static long Signals(IJobStore store) =>
        store.Signals.JobsAvailable.Count + store.Signals.ScheduleChanged.Count + store.Signals.CommandsAvailable.Count;

    /// <summary>
    /// Whether the background loop samples now: while a viewer looks, while jobs are queued or running (or finished in
    /// the last minute), and when the store signalled a change. A store where nothing happens is not read at all.
    /// </summary>
    private bool Due(DateTimeOffset now)
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && now - last.At < Interval - TimeSpan.FromMilliseconds(200)) return false;
        if (now.ToUnixTimeMilliseconds() - Volatile.Read(ref _lastDemandMs) <= ViewerWindow.TotalMilliseconds) return true;
        if (last is not null && last.Queues.Any(q => q.Queued > 0 || q.Running > 0 || q.CompletedPerMinute > 0 || q.FailedPerMinute > 0)) return true;
        if (services.GetService<IJobStore>() is not { } store) return false;
        // The first round only notes where the signals stand.
        if (_signals < 0) _signals = Signals(store);
        return Signals(store) != _signals;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (Due(time.GetUtcNow())) await ReadAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store may not be open yet (an application's store starts first) or may be down: the next round tries again.
                SampleFailed(logger, ex.Message);
            }
            await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Debug, Message = "overview sample failed: {Reason}")]
    private static partial void SampleFailed(ILogger logger, string reason);
}

/// <summary>One reading of the queues and workers.</summary>
internal sealed record OverviewSample(DateTimeOffset At, IReadOnlyList<QueueView> Queues, IReadOnlyList<WorkerView> Workers);
