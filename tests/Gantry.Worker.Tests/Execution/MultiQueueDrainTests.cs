using System.Diagnostics;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Xunit.Abstractions;

namespace Gantry.Worker.Tests.Execution;

/// <summary>
/// A worker serving several queues, with a backlog in only one: it drains it about as fast as a
/// worker serving that queue alone, on every link. (It used to ask only the queues with room and
/// then park on the empty ones: bursts 10 s apart over HTTP, a seventh of the speed on the store.)
/// </summary>
public sealed class MultiQueueDrainTests(ITestOutputHelper output) : WorkerTestBase
{
    private const int Jobs = 3_000;

    /// <summary>Long, so that a claim loop that waits on an empty queue while another has work shows it plainly.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public enum LinkKind { Store, Http, Ipc }

    [Theory]
    [InlineData(LinkKind.Store)]
    [InlineData(LinkKind.Http)]
    [InlineData(LinkKind.Ipc)]
    public async Task BacklogInOneQueue_WorkerServingTwo_DrainsAsFastAsOneServingItAlone(LinkKind kind)
    {
        await using var server = kind == LinkKind.Http ? await TestServer.StartAsync(Store, Ct) : null;
        await DrainAsync(kind, server?.Url(), new() { ["ra"] = 16 }); // warm-up: JIT, connection pools
        var alone = await DrainAsync(kind, server?.Url(), new() { ["ra"] = 16 });
        var both = await DrainAsync(kind, server?.Url(), new() { ["ra"] = 16, ["rb"] = 16 });
        output.WriteLine($"{kind}: {Jobs} jobs in ra: ra:16 {alone.TotalMilliseconds:F0} ms, ra:16,rb:16 {both.TotalMilliseconds:F0} ms");
        // Generous for a loaded 2-core machine; the stall this guards against took 7× (store) to 30× (HTTP) as long.
        Assert.True(both < alone * 2 + TimeSpan.FromSeconds(1), $"{kind}: ra:16,rb:16 took {both.TotalMilliseconds:F0} ms, ra:16 alone {alone.TotalMilliseconds:F0} ms");
    }

    /// <summary>Enqueues the backlog in ra, then times a fresh worker over the link from its start to the last job's end.</summary>
    private async Task<TimeSpan> DrainAsync(LinkKind kind, Uri? server, Dictionary<string, int> queues)
    {
        var jobs = Enumerable.Range(0, Jobs).Select(_ => Job(BuiltInHandlers.Noop, queue: "ra")).ToArray();
        await Store.JobEnqueueManyAsync(new JobEnqueueParams(jobs), Ct);

        await using var node = kind == LinkKind.Ipc ? StandInNode.Start(Store, Path.Combine(Dir, Guid.NewGuid().ToString("N")[..8]), [BuiltInHandlers.Noop], Ct) : null;
        IWorkerLink link = kind switch
        {
            LinkKind.Store => new StoreWorkerLink(Store),
            LinkKind.Http => new HttpWorkerLink(server!, token: null),
            _ => await IpcWorkerLink.ConnectAsync(node!.SocketPath, localId: 1, Ct),
        };
        var watched = new SucceededCount(link, Jobs);
        var worker = CreateWorker(watched, Options() with { Queues = queues, PollInterval = PollInterval });
        var clock = Stopwatch.StartNew();
        await worker.StartAsync(Ct);
        await watched.All.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        var elapsed = clock.Elapsed;
        await worker.StopAsync(Ct);
        if (link is IAsyncDisposable d) await d.DisposeAsync();
        else if (link is IDisposable s) s.Dispose();
        return elapsed;
    }

    /// <summary>Completes <see cref="All"/> once the coordinator has applied that many succeeded reports.</summary>
    private sealed class SucceededCount(IWorkerLink inner, int expected) : IWorkerLink
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _succeeded;
        public Task All => _all.Task;
        public string Description => inner.Description;
        public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => inner.RegisterAsync(registration, ct);
        public Task DeregisterAsync(string workerId, CancellationToken ct) => inner.DeregisterAsync(workerId, ct);
        public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) => inner.ClaimAsync(p, mayWait, ct);
        public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForJobsAsync(timeout, ct);
        public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => inner.HeartbeatAsync(p, ct);
        public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => inner.TakeCommandsAsync(workerId, ct);
        public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForCommandsAsync(timeout, ct);
        public void JobStarted(JobLease attempt) => inner.JobStarted(attempt);

        public async Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
        {
            var applied = await inner.ReportAsync(reports, ct);
            var n = reports.Where((r, i) => r is JobSucceededReport && applied[i]).Count();
            if (Interlocked.Add(ref _succeeded, n) >= expected) _all.TrySetResult();
            return applied;
        }
    }
}

