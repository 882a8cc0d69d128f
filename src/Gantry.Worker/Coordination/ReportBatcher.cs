using System.Threading.Channels;
using Gantry.Worker.Execution;
using Gantry.Storage;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;
using Gantry.Time;

namespace Gantry.Worker.Coordination;

/// <summary>
/// Writes reports to the coordinator in groups: whatever arrived while the previous group was written goes in the
/// next call, so an idle worker or node writes each report at once and a busy one amortises the call (and the
/// store's commit) over hundreds. A failed write is retried with backoff; nothing is dropped while the session
/// runs. The attempts a written group ends stop being held (<see cref="HeldJobs.Written"/>) only then: an attempt
/// is held until its outcome is written, so that a crash before the write leaves it leased, not running unleased.
/// </summary>
internal sealed class ReportBatcher(IWorkerLink link, HeldJobs held, ILogger logger, TimeProvider time, LinkOutage outage, int maxBatch, bool logStale)
{
    private readonly Channel<Entry> _channel = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private Task _loop = Task.CompletedTask;

    /// <summary>Called with a group that ends attempts once it is written: their slots under a flow limit are free in the store.</summary>
    public Action<IReadOnlyList<JobReport>>? AttemptsWritten { get; set; }

    /// <summary>Queues a report; its answer is not awaited.</summary>
    public void Add(JobReport report) => _channel.Writer.TryWrite(new Entry(ReportTexts.Clean(report), null, null, null));

    /// <summary>Queues a report and completes once it is written: true when the coordinator applied it (not stale);
    /// false when the batcher no longer takes reports.</summary>
    public Task<bool> AddAndWaitAsync(JobReport report)
    {
        var written = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite(new Entry(ReportTexts.Clean(report), null, written, null))) written.TrySetResult(false);
        return written.Task;
    }

    /// <summary>Queues reports (a node's worker's batch); completes with, per report, whether the coordinator applied it.
    /// Fails when the batcher no longer takes reports.</summary>
    public Task<IReadOnlyList<bool>> AddAsync(IReadOnlyList<JobReport> reports)
    {
        var written = new TaskCompletionSource<IReadOnlyList<bool>>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite(new Entry(null, ReportTexts.Clean(reports), null, written))) written.TrySetException(new IOException("reports are no longer taken: stopping"));
        return written.Task;
    }

    /// <summary>Starts writing; <paramref name="ct"/> ends it, cancelling the answers of what is still queued.</summary>
    public void Start(CancellationToken ct) => _loop = Task.Run(() => RunAsync(ct), CancellationToken.None);

    /// <summary>Writes everything still queued, then stops; gives up waiting when <paramref name="ct"/> fires.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        _channel.Writer.TryComplete();
        await _loop.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var batch = new List<JobReport>(maxBatch);
        var waiting = new List<(int Index, Entry Entry)>();
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (batch.Count < maxBatch && reader.TryRead(out var entry))
                {
                    if (entry.Written is not null || entry.AllWritten is not null) waiting.Add((batch.Count, entry));
                    if (entry.Report is { } one) batch.Add(one);
                    else batch.AddRange(entry.Reports!);
                }
                var applied = await WriteAsync(batch, ct).ConfigureAwait(false);
                foreach (var (index, entry) in waiting)
                {
                    entry.Written?.TrySetResult(applied[index]);
                    if (entry.AllWritten is null) continue;
                    var slice = new bool[entry.Reports!.Count];
                    for (var i = 0; i < slice.Length; i++) slice[i] = applied[index + i];
                    entry.AllWritten.TrySetResult(slice);
                }
                batch.Clear();
                waiting.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var (_, entry) in waiting) entry.Cancel();
            while (reader.TryRead(out var left)) left.Cancel();
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
                if (AttemptsWritten is { } written && batch.Exists(static r => r.EndsAttempt)) written(batch);
                Telemetry.GantryMetrics.ReportDuration.Record(time.GetElapsedTime(started).TotalSeconds);
                if (logStale)
                    for (var i = 0; i < applied.Count; i++)
                        if (!applied[i] && batch[i] is not (JobProgressReport or JobLogReport or JobUsageReport))
                            WorkerLog.StaleReport(logger, batch[i].JobId, batch[i].Attempt);
                return applied;
            }
            catch (CoordinatorRefusedException refused)
            {
                outage.Ok(); // it answered
                return await WriteRefusedAsync(batch, refused, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                outage.Failed("report", ex);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = RetryPause.After(delay);
            }
        }
    }

    /// <summary>
    /// The coordinator refused <paramref name="batch"/> for what it holds: sent again it would be refused again, holding
    /// every report of the batch (other jobs' outcomes too) with it. Its halves are written apart until each refused report
    /// stands alone; such a report is dropped (not applied), and an outcome is replaced by the attempt's failure for good,
    /// saying why, so that its job ends instead of running on. Nothing the coordinator takes is lost.
    /// </summary>
    private async Task<IReadOnlyList<bool>> WriteRefusedAsync(List<JobReport> batch, CoordinatorRefusedException refused, CancellationToken ct)
    {
        if (batch.Count > 1)
        {
            var half = batch.Count / 2;
            var first = await WriteAsync(batch[..half], ct).ConfigureAwait(false);
            var second = await WriteAsync(batch[half..], ct).ConfigureAwait(false);
            return [.. first, .. second];
        }
        var report = batch[0];
        WorkerLog.RefusedReport(logger, report.JobId, report.Attempt, refused.Message);
        if (MessageParts.CarriesText(report) && !IsRefusal(report))
            return await WriteAsync([MessageParts.Undeliverable(report.JobId, report.Attempt, report.WorkerId, RefusalPrefix + refused.Message)], ct).ConfigureAwait(false);
        held.Written(batch); // not held for a write that will never come
        return [false];
    }

    private const string RefusalPrefix = "the coordinator refused the attempt's outcome: ";

    private static bool IsRefusal(JobReport report) =>
        report is JobFailedReport f && f.Error.Message.StartsWith(RefusalPrefix, StringComparison.Ordinal);

    /// <summary>One report, or a group of them; with whoever waits for its answer.</summary>
    private readonly record struct Entry(JobReport? Report, IReadOnlyList<JobReport>? Reports,
        TaskCompletionSource<bool>? Written, TaskCompletionSource<IReadOnlyList<bool>>? AllWritten)
    {
        public void Cancel()
        {
            Written?.TrySetCanceled(CancellationToken.None);
            AllWritten?.TrySetCanceled(CancellationToken.None);
        }
    }
}
