using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>How the worker meets its coordinator: registration through an outage, and the shutdown command.</summary>
public sealed class GantryWorkerLinkTests : WorkerTestBase
{
    [Fact]
    public async Task Start_CoordinatorDownAtFirst_RegistersOnceItAnswers()
    {
        var link = new FailingRegistrationLink(new StoreWorkerLink(Store), failures: 2, error: () => new StoreUnavailableException("cannot reach PostgreSQL at 127.0.0.1:5432: connection refused"));
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        Assert.Equal(3, link.Attempts);
        var id = await EnqueueAsync("echo", """{"after":"outage"}""");
        Assert.Equal(JobState.Succeeded, (await WaitForStateAsync(id, JobState.Succeeded)).State);
    }

    [Fact]
    public async Task Start_CoordinatorRefuses_FailsAtOnce()
    {
        var link = new FailingRegistrationLink(new StoreWorkerLink(Store), failures: 100, error: () => new GantryException("the Gantry server refused the worker's token (401)"));
        var worker = new GantryWorker(link, Options(), Services);
        var ex = await Assert.ThrowsAsync<GantryException>(() => worker.StartAsync(Ct));
        Assert.Contains("refused", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, link.Attempts);
    }

    [Fact]
    public async Task ShutdownCommand_RunningJobGivenBackAtOnce_WorkerStops()
    {
        var worker = await StartWorkerAsync(Options() with { DrainTimeout = TimeSpan.FromMinutes(5) });
        var id = await EnqueueAsync(TestJobTypes.Block);
        await Probe.WaitStartedAsync(id);

        await Store.WorkerCommandSendAsync(worker.Id, WorkerCommandKind.Shutdown, Ct);

        await worker.Drained.WaitAsync(TimeSpan.FromSeconds(30), Ct); // not the five-minute drain
        var job = await GetAsync(id);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(WorkerStates.Stopped, (await Store.WorkerListAsync(Ct)).Single(w => w.Id == worker.Id).State);
    }

    /// <summary>Fails the first registrations, then passes everything through.</summary>
    private sealed class FailingRegistrationLink(IWorkerLink inner, int failures, Func<Exception> error) : IWorkerLink
    {
        public int Attempts;
        public string Description => inner.Description;

        public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) =>
            Interlocked.Increment(ref Attempts) <= failures ? Task.FromException(error()) : inner.RegisterAsync(registration, ct);

        public Task DeregisterAsync(string workerId, CancellationToken ct) => inner.DeregisterAsync(workerId, ct);
        public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) => inner.ClaimAsync(p, mayWait, ct);
        public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForJobsAsync(timeout, ct);
        public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) => inner.ReportAsync(reports, ct);
        public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => inner.HeartbeatAsync(p, ct);
        public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => inner.TakeCommandsAsync(workerId, ct);
        public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => inner.WaitForCommandsAsync(timeout, ct);
    }
}
