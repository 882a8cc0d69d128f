using System.Text.Json;
using Gantry.Jobs;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Tests.Support;

namespace Gantry.Worker.Tests.Execution;

/// <summary>What ends up in the store when handlers return, throw, or cannot read their payload.</summary>
public sealed class GantryWorkerOutcomeTests : WorkerTestBase
{
    [Fact]
    public async Task Run_Echo_SucceedsWithPayloadAsResult()
    {
        await StartWorkerAsync();

        var id = await EnqueueAsync(BuiltInHandlers.Echo, """{"hello":"world","n":[1,2]}""");

        var job = await WaitForStateAsync(id, JobState.Succeeded);
        using var result = JsonDocument.Parse(job.Result!);
        Assert.Equal("world", result.RootElement.GetProperty("hello").GetString());
        Assert.Equal(2, result.RootElement.GetProperty("n").GetArrayLength());
        Assert.Equal(1, job.Attempt);
        Assert.Empty(job.Errors);
    }

    [Fact]
    public async Task Run_HandlerAlwaysThrows_RetriedWithBackoffThenDeadWithEveryError()
    {
        await StartSchedulerAsync();
        await StartWorkerAsync();

        var id = await EnqueueAsync(Job(TestJobTypes.Throw) with
        {
            MaxAttempts = 3,
            Backoff = new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200)),
        });

        var job = await WaitForStateAsync(id, JobState.Dead);
        Assert.Equal(3, job.Attempt);
        Assert.Equal([1, 2, 3], job.Errors.Select(e => e.Attempt));
        Assert.All(job.Errors, e =>
        {
            Assert.Equal(JobErrorKinds.Exception, e.Error.Kind);
            Assert.Equal(typeof(InvalidOperationException).FullName, e.Error.Type);
            Assert.Equal($"boom on attempt {e.Attempt}", e.Error.Message);
            Assert.False(string.IsNullOrEmpty(e.Error.StackTrace));
        });
    }

    [Fact]
    public async Task Run_FailTwice_SucceedsOnThirdAttempt()
    {
        await StartSchedulerAsync();
        await StartWorkerAsync();

        var id = await EnqueueAsync(Job(BuiltInHandlers.Fail, """{"times":2}""") with
        {
            MaxAttempts = 5,
            Backoff = new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100)),
        });

        var job = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal(3, job.Attempt);
        Assert.Equal([1, 2], job.Errors.Select(e => e.Attempt));
        Assert.All(job.Errors, e => Assert.Equal(typeof(DeliberateFailureException).FullName, e.Error.Type));
        using var result = JsonDocument.Parse(job.Result!);
        Assert.Equal(3, result.RootElement.GetProperty("succeeded_on_attempt").GetInt32());
    }

    [Fact]
    public async Task Run_PayloadDoesNotFitHandler_DeadAtOnce()
    {
        await StartWorkerAsync();

        var id = await EnqueueAsync(Job(BuiltInHandlers.Sleep, """{"ms":"soon"}""") with { MaxAttempts = 5 });

        var job = await WaitForStateAsync(id, JobState.Dead);
        Assert.Equal(1, job.Attempt);
        var error = Assert.Single(job.Errors).Error;
        Assert.Contains("does not fit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_Worker_RegisteredWithItsJobTypes()
    {
        var worker = await StartWorkerAsync();

        var record = Assert.Single(await Store.WorkerListAsync(Ct));
        Assert.Equal(worker.Id, record.Id);
        Assert.Equal(Gantry.Storage.WorkerStates.Running, record.State);
        var served = await Store.JobTypesServedAsync(Ct);
        Assert.Contains(BuiltInHandlers.Echo, served);
        Assert.Contains(TestJobTypes.Block, served);

        await worker.StopAsync(Ct);
        Assert.Equal(Gantry.Storage.WorkerStates.Stopped, Assert.Single(await Store.WorkerListAsync(Ct)).State);
    }

    [Fact]
    public async Task Run_JobTypeWithoutHandler_NotClaimed()
    {
        await StartWorkerAsync();
        var unknown = await EnqueueAsync("nobody.serves.this");
        var known = await EnqueueAsync(BuiltInHandlers.Noop);

        await WaitForStateAsync(known, JobState.Succeeded);

        Assert.Equal(JobState.Queued, (await GetAsync(unknown)).State);
    }
}
