using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// A handler that fails for good (<c>retry: false</c>) or asks for its retry's delay gets the same outcome whatever the
/// worker's link (the store, the HTTP worker protocol, a node's IPC): the worker's report says it, and the store applies it.
/// </summary>
public sealed class HandlerOutcomeLinkTests : WorkerTestBase
{
    private const string Declined = "test.declined";
    private const string RateLimited = "test.rate-limited";

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddGantryHandler<DeclinedHandler>(Declined).AddGantryHandler<RateLimitedHandler>(RateLimited);

    private sealed class DeclinedHandler : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context) =>
            throw new JobFailedException("the card was declined", retry: false);
    }

    private sealed class RateLimitedHandler : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context) =>
            throw new JobFailedException("429 from the mail API", retryAfter: TimeSpan.FromHours(2));
    }

    [Fact]
    public Task FailForGoodAndRetryAfter_OverStoreHttpAndIpc_SameOutcome() =>
        OverEveryLinkAsync([BuiltInHandlers.Echo, Declined, RateLimited], RunThroughAsync);

    private async Task RunThroughAsync(string name, IWorkerLink link)
    {
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        var declined = await EnqueueAsync(Job(Declined) with { MaxAttempts = 5 });
        var before = DateTimeOffset.UtcNow;
        var limited = await EnqueueAsync(Job(RateLimited) with { MaxAttempts = 5 });

        var dead = await WaitForStateAsync(declined, JobState.Dead);
        Assert.True(dead.Attempt == 1, $"over {name} the declined job ran {dead.Attempt} attempts");
        var error = Assert.Single(dead.Errors).Error;
        Assert.Equal("the card was declined", error.Message);
        Assert.Equal(typeof(JobFailedException).FullName, error.Type);

        var scheduled = await WaitForStateAsync(limited, JobState.Scheduled);
        Assert.InRange(scheduled.RunAt!.Value, before.AddHours(2).AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(2).AddSeconds(1));
        await worker.StopAsync(Ct);
    }
}
