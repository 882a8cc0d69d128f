using System.Threading.Channels;
using Gantry.Storage;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;
using Gantry.Time;

namespace Gantry.Worker.Execution;

/// <summary>
/// Collects reports from running jobs and writes them in batches: whatever has arrived while the
/// previous batch was written goes in the next transaction, so an idle worker writes each report
/// at once and a busy one amortises the commit over hundreds. A failed write is retried with
/// backoff; reports are never dropped while the worker runs. An attempt stays held until its outcome is written.
/// </summary>
internal sealed class ReportSink(IWorkerLink link, HeldJobs held, ILogger logger, TimeProvider time, LinkOutage outage)
{
    private const int MaxBatch = 1000;
    private readonly Channel<(JobReport Report, TaskCompletionSource<bool>? Written)> _channel =
        Channel.CreateUnbounded<(JobReport, TaskCompletionSource<bool>?)>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _loop;

    public void Add(JobReport report) => _channel.Writer.TryWrite((report, null));

    /// <summary>Adds a report and completes once it is written: true when the store applied it (not stale).</summary>
    public Task<bool> AddAndWaitAsync(JobReport report)
    {
        var written = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite((report, written))) written.TrySetResult(false);
        return written.Task;
    }

    public void Start() => _loop = Task.Run(() => RunAsync(CancellationToken.None));

    /// <summary>Writes everything still pending, then stops; gives up when <paramref name="ct"/> fires.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        _channel.Writer.TryComplete();
        if (_loop is not null) await _loop.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var batch = new List<JobReport>(MaxBatch);
        var waiting = new List<(int Index, TaskCompletionSource<bool> Written)>();
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                if (item.Written is not null) waiting.Add((batch.Count, item.Written));
                batch.Add(item.Report);
            }
            var applied = await WriteAsync(batch, ct).ConfigureAwait(false);
            foreach (var (index, written) in waiting) written.TrySetResult(applied[index]);
            batch.Clear();
            waiting.Clear();
        }
    }

    private async Task<IReadOnlyList<bool>> WriteAsync(List<JobReport> batch, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var started = time.GetTimestamp();
                var applied = await link.ReportAsync(batch, ct).ConfigureAwait(false);
                held.Written(batch);
                outage.Ok();
                Telemetry.GantryMetrics.ReportDuration.Record(time.GetElapsedTime(started).TotalSeconds);
                for (var i = 0; i < applied.Count; i++)
                    if (!applied[i] && batch[i] is not (JobProgressReport or JobLogReport or JobUsageReport))
                        WorkerLog.StaleReport(logger, batch[i].JobId, batch[i].Attempt);
                return applied;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                outage.Failed("report", ex);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = RetryPause.After(delay);
            }
        }
    }
}
