using System.Threading.Channels;
using Gantry.Storage;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;
using Gantry.Time;

namespace Gantry.Node.Upstream;

/// <summary>
/// Merges the report batches of every worker into the coordinator's report call: whatever arrived
/// while the last call ran goes in the next one, so a busy node writes hundreds of reports per
/// transaction and an idle one writes each at once. A failed call is retried with backoff until it
/// succeeds or the node stops; each batch's caller gets its own slice of the answer. The node holds
/// an attempt until its outcome is written here.
/// </summary>
internal sealed class ReportBatcher(IWorkerLink link, HeldJobs held, TimeProvider time, Gantry.Worker.Execution.LinkOutage outage)
{
    private const int MaxBatch = 2000;
    private readonly Channel<Batch> _channel = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });
    private Task _loop = Task.CompletedTask;

    /// <summary>What the node's workers ran, by outcome: every attempt's outcome comes through here.</summary>
    public Gantry.Worker.Execution.RunTally Tally { get; } = new(time);

    public void Start(CancellationToken ct) => _loop = Task.Run(() => RunAsync(ct), CancellationToken.None);

    /// <summary>Queues reports; completes with, per report, whether the coordinator applied it.</summary>
    public Task<IReadOnlyList<bool>> AddAsync(IReadOnlyList<JobReport> reports)
    {
        var batch = new Batch(reports);
        if (!_channel.Writer.TryWrite(batch)) batch.Done.TrySetException(new IOException("the node is stopping"));
        else Tally.Add(reports);
        return batch.Done.Task;
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        _channel.Writer.TryComplete();
        await _loop.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var reader = _channel.Reader;
        var batches = new List<Batch>();
        var all = new List<JobReport>(MaxBatch);
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (all.Count < MaxBatch && reader.TryRead(out var batch))
                {
                    batches.Add(batch);
                    all.AddRange(batch.Reports);
                }
                var applied = await WriteAsync(all, ct).ConfigureAwait(false);
                var at = 0;
                foreach (var batch in batches)
                {
                    batch.Done.TrySetResult(applied.Skip(at).Take(batch.Reports.Count).ToArray());
                    at += batch.Reports.Count;
                }
                batches.Clear();
                all.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var batch in batches) batch.Done.TrySetCanceled(CancellationToken.None);
            while (reader.TryRead(out var left)) left.Done.TrySetCanceled(CancellationToken.None);
        }
    }

    private async Task<IReadOnlyList<bool>> WriteAsync(List<JobReport> reports, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var applied = await link.ReportAsync(reports, ct).ConfigureAwait(false);
                held.Written(reports);
                outage.Ok();
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

    private sealed record Batch(IReadOnlyList<JobReport> Reports)
    {
        public TaskCompletionSource<IReadOnlyList<bool>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
